"""riskkit: assess personal-data breaches from the leaked extract to a leadership briefing."""

__version__ = "0.1.0"


def stop_message(signum: int) -> str:
    """The one line riskkit prints when Ctrl-C or SIGTERM stops it."""
    import signal

    what = "stopped by SIGTERM" if signum == signal.SIGTERM else "interrupted"
    return f"riskkit: {what}; no output was published and no restricted file was left behind."


def _stop_while_starting(signum: int, _frame: object) -> None:
    import os

    os.write(2, (stop_message(signum) + "\n").encode())
    os._exit(128 + signum)  # nothing has been written yet: nothing to clean up


def _guard_start() -> None:
    """The ``riskkit`` command spends its first second importing; Ctrl-C or SIGTERM then would
    print a traceback. Until ``cli.main`` installs its own handlers, either ends it with one line.
    Only for the command itself: a notebook kernel importing riskkit keeps Jupyter's handlers."""
    import os
    import signal
    import sys

    if sys.argv and os.path.basename(sys.argv[0]) == "riskkit":
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, _stop_while_starting)


_guard_start()
