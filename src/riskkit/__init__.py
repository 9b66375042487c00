"""riskkit: assess personal-data breaches from the leaked extract to a leadership briefing."""

__version__ = "0.2.0"


def stop_message(signum: int) -> str:
    """The one line riskkit prints when Ctrl-C or SIGTERM stops it."""
    import signal

    what = "stopped by SIGTERM" if signum == signal.SIGTERM else "interrupted"
    return f"riskkit: {what}; no output was published and no restricted file was left behind."


def _stop_while_starting(signum: int, _frame: object) -> None:
    import os

    os.write(2, (stop_message(signum) + "\n").encode())
    os._exit(128 + signum)  # nothing has been written yet: nothing to clean up


def _started_as_command() -> bool:
    """Whether this process is the ``riskkit`` command: the console script (``riskkit``,
    ``riskkit.exe``) or ``python -m riskkit``. While ``-m`` imports the package, ``sys.argv[0]``
    is the placeholder ``"-m"``, so the module name is read from ``sys.orig_argv``; a kernel
    (``-m ipykernel_launcher``), pytest or a script importing riskkit is not the command."""
    import os
    import sys

    if not sys.argv:
        return False
    if os.path.splitext(os.path.basename(sys.argv[0]))[0] == "riskkit":
        return True
    if sys.argv[0] != "-m":
        return False
    return _module_run(list(getattr(sys, "orig_argv", []))[1:]) == "riskkit"


def _module_run(args: list[str]) -> str | None:
    """The module an interpreter command line runs with ``-m`` (``python -X dev -Im riskkit``:
    ``riskkit``), or None for a script or ``-c``."""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] not in ("-", "--"):
        arg = args[i]
        if arg.startswith("--"):  # --check-hash-based-pycs takes a value; the others do not
            i += 2 if arg == "--check-hash-based-pycs" else 1
            continue
        for j, flag in enumerate(arg[1:], start=1):
            if flag in "cmWX":  # these take the rest of the argument, else the next one
                value = arg[j + 1:] or (args[i + 1] if i + 1 < len(args) else "")
                if flag == "m":
                    return value
                if flag == "c":
                    return None
                i += 0 if arg[j + 1:] else 1
                break
        i += 1
    return None


def _guard_start() -> None:
    """The ``riskkit`` command spends its first second importing; Ctrl-C or SIGTERM then would
    print a traceback. Until ``cli.main`` installs its own handlers, either ends it with one line.
    Only for the command itself (``riskkit`` or ``python -m riskkit``): a notebook kernel
    importing riskkit keeps Jupyter's handlers."""
    import signal

    if _started_as_command():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, _stop_while_starting)


_guard_start()
