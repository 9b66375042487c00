"""One exceptions module, so the CLI can tell a user's mistake from a bug.

Every ``RiskkitError`` message is a single line that names the file, row or column, says what
is wrong and what to do. Messages never quote values from an extract: those may be personal
data, and error text travels into logs, terminals and tickets.
"""

from __future__ import annotations


class RiskkitError(Exception):
    """A problem the user can fix; the CLI prints it as one line and exits non-zero."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class IncidentError(RiskkitError):
    """The incident file is missing, malformed or fails its schema."""


class ExtractError(RiskkitError):
    """An extract file cannot be read or lacks a mapped column."""


class ModelError(RiskkitError):
    """The risk model file is missing or fails its schema."""


class GeographyError(RiskkitError):
    """A boundary file or postcode lookup cannot be used."""


class OutputError(RiskkitError):
    """An output folder cannot be written, or a leadership output holds personal data."""


class ParameterError(RiskkitError):
    """A notebook parameter has the wrong type or value."""


class NotebookError(RiskkitError):
    """The briefing notebook failed; the annotated notebook is kept for inspection."""


class Stopped(KeyboardInterrupt):
    """Ctrl-C or SIGTERM: the run unwinds (kernel stopped, staging removed) and the CLI says so."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


STOPPED_BY: list[int] = []  # the signals that stopped this process (typer turns them into exit code 130)


def raise_stopped(signum: int, _frame: object) -> None:
    """A signal handler: SIGTERM (and SIGINT) unwind through every ``finally`` like Ctrl-C."""
    STOPPED_BY.append(signum)
    raise Stopped(signum)


# OS failures a user can act on, in words; any other OSError stays an internal error.
OS_PROBLEMS = {28: "no space left on the device", 122: "disk quota exceeded", 30: "the file system is read-only",
               36: "a file or folder name is too long (most systems allow 255 characters)",
               40: "a symbolic link loops back on itself", 13: "permission denied", 24: "too many open files"}


def os_problem(exc: OSError) -> OutputError | None:
    """A one-line error for an OSError the user can fix, naming the path but never file contents."""
    what = OS_PROBLEMS.get(exc.errno or 0)
    if what is None:
        return None
    where = f"{exc.filename}: " if exc.filename and len(str(exc.filename)) < 400 else ""
    return OutputError(f"{where}{what}; fix that and re-run (nothing half-written was published).")
