"""What `timing` stops with: one line for the user, and the exit status that goes with it."""

from __future__ import annotations


class TimingError(Exception):
    """A failure at run time (the cluster, Pulumi or a file write failed): exit 1."""

    exit_code = 1


class UsageError(TimingError):
    """The command line or its inputs are wrong; the message names the flag, file or value: exit 2."""

    exit_code = 2
