"""`compare A B`: each run is a results folder (read as `report --results DIR` reads it) or a report JSON."""

from __future__ import annotations

import sys
from pathlib import Path

from timing.cli.output import stdout_closed
from timing.errors import ExitStatus, TimingError, UsageError


def _report_file(path: Path, flag: str) -> dict:
    import orjson

    from timing.analysis.compare import report_problem

    try:
        doc = orjson.loads(path.read_bytes())
    except OSError as error:
        raise UsageError(f"{flag} {path}: not readable ({error.strerror})") from None
    except orjson.JSONDecodeError as error:
        raise UsageError(f"{flag} {path}: not JSON ({error}); give a report --json FILE or a results folder") from None
    problem = report_problem(doc)
    if problem:
        raise UsageError(f"{flag} {path}: {problem}")
    return doc


def _results_report(path: Path, flag: str) -> dict:
    """The very report `report --results DIR` builds, with its defaults (which trials count, and so on)."""
    from timing.cli.parser import build_parser
    from timing.cli.report import build_for

    args = build_parser().parse_args(["report", "--results", str(path)])
    try:
        return build_for(args) or {}  # with --results, build_for gives a report or raises
    except UsageError as error:
        # The reader names the flag it was given; the user gave A or B, so the message names that.
        words = str(error)
        words = words.removeprefix("--results ") if words.startswith("--results ") else f"{path}: {words}"
        raise UsageError(f"{flag} {words}") from None


def load_run(text: str, flag: str) -> dict:
    path = Path(text).expanduser()
    if path.is_dir():
        return _results_report(path, flag)
    if path.is_file():
        return _report_file(path, flag)
    what = "not a regular file or folder" if path.exists() else "no such file or folder"
    raise UsageError(f"{flag} {text}: {what}; give a results folder or a report --json FILE")


def _write_json(target: str, result: dict) -> None:
    import orjson

    if target == "-":
        option = orjson.OPT_INDENT_2 if sys.stdout.isatty() else 0
        sys.stdout.write(orjson.dumps(result, option=option).decode() + "\n")
        sys.stdout.flush()  # inside the caller's BrokenPipeError guard, not at exit
        return
    try:
        Path(target).write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    except OSError as error:
        raise TimingError(f"--json {target}: writing it failed: {error.strerror or error}") from None
    print(f"wrote {target} ({len(result['comparisons'])} comparison(s) in both runs)", file=sys.stderr)


def cmd_compare(args) -> int:
    from timing.analysis.compare import compare_reports

    if args.json and args.json != "-" and not Path(args.json).expanduser().resolve().parent.is_dir():
        raise UsageError(f"--json {args.json}: the folder {Path(args.json).resolve().parent} does not exist")
    result = compare_reports(load_run(args.a, "A"), load_run(args.b, "B"))
    try:
        if args.json:
            _write_json(args.json, result)
        if args.json != "-":
            from timing.rendering.compare import print_compare
            from timing.rendering.table import console_for

            print_compare(result, args.a, args.b, console_for(sys.stdout))
            sys.stdout.flush()
    except BrokenPipeError:
        stdout_closed()
    return ExitStatus.OK
