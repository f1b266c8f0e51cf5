"""``venv/bin/python -m timing`` command line: `report` and `measure`.

``parser`` defines the flags, ``report``, ``compare`` and ``measure`` run the commands, ``output``
writes what `report` puts out. Every mistake ends in one line on stderr naming the flag, file or value (exit 2);
a failure at run time in one line too (exit 1); `--debug` shows the traceback instead.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import traceback
from typing import NoReturn

from timing.cli.compare import cmd_compare
from timing.cli.measure import cmd_measure
from timing.cli.output import stdout_closed
from timing.cli.parser import build_parser, message_name
from timing.cli.report import cmd_report
from timing.errors import ExitStatus, TimingError, first_line

__all__ = ["build_parser", "main", "run"]


def main(argv: list[str] | None = None, *, process_exits: bool = False) -> int:
    """The command's exit status; ``process_exits``: the process ends right after (``run``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    name = message_name()
    try:
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
        if extra:
            # Said by the command that was given, not by the top-level parser.
            parser.commands[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
        args.process_exits = process_exits
        commands = {"report": cmd_report, "compare": cmd_compare, "measure": cmd_measure}
        return commands[args.command](args)
    except BrokenPipeError:
        stdout_closed()  # `--help | head`: the reader had enough, which is no error
        return ExitStatus.OK
    except TimingError as error:
        if debug:
            traceback.print_exc()
        print(f"{name}: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return ExitStatus.INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the last line of defence: one line, the traceback on --debug
        if debug:
            traceback.print_exc()
        print(
            f"{name}: error: {type(error).__name__}: {first_line(error)} (run with --debug for the traceback)",
            file=sys.stderr,
        )
        return ExitStatus.FAILURE


def run() -> NoReturn:
    """The console script and ``python -m timing``: the command, then the end of the process.

    What the command wrote is flushed and the exit handlers run (the kubernetes client deletes the
    key files it wrote from a kubeconfig), then the process ends without freeing its objects one by
    one (``os._exit``): the operating system takes the memory back at once.
    """
    status = main(process_exits=True)
    # A stream closed when the process started (`2>&-`) is None: nothing to flush, and no reason to fail.
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        stdout_closed()  # the reader went away: what it did not read is no error
    except (OSError, ValueError) as error:  # a full disk behind a redirected stdout, a closed stream
        if sys.stderr is not None:
            print(f"{message_name()}: error: writing standard output failed: {first_line(error)}", file=sys.stderr)
        status = ExitStatus.FAILURE
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None:  # a Python without it: the ordinary exit, which runs them itself
        sys.exit(int(status))
    run_exit_handlers()
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.flush()
    os._exit(int(status))
