"""What `timing` stops with: one line for the user, and the exit status that goes with it."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """What `venv/bin/python -m timing` exits with."""

    OK = 0
    FAILURE = 1  # something failed at run time
    USAGE = 2  # the command line or its inputs are wrong
    FLAGGED = 3  # measure: trials were written, but some are flagged (not cold, not all Ready)
    GATE_FAILED = 3  # report: --fail-below or --require-verified failed (the outputs were written)
    INTERRUPTED = 130  # Ctrl-C: trials taken are kept, what measure created is removed


class TimingError(Exception):
    """A failure at run time (the cluster, Pulumi or a file write failed)."""

    exit_code = ExitStatus.FAILURE


class UsageError(TimingError):
    """The command line or its inputs are wrong; the message names the flag, file or value."""

    exit_code = ExitStatus.USAGE


def first_line(error: BaseException) -> str:
    """An error in one line: its message's first line, or its type when it has none."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
