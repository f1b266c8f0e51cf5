"""What `report` puts out: the files it was asked for (--csv, --plot, --crossover-plot, --json FILE), then stdout."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from timing.errors import TimingError, first_line


def _wrote(path: str, what: str) -> None:
    print(f"wrote {path} ({what})", file=sys.stderr)


def _json_doc(args, report: dict | None) -> dict:
    doc = report if report is not None else {}
    if args.reference:
        from timing.rendering.reference import reference_rows

        doc = dict(doc, reference=reference_rows())
    return doc


def _write_csv(args, report: dict) -> None:
    from timing.rendering.table import write_csv

    rows = write_csv(report, args.csv)
    _wrote(args.csv, f"{rows} row(s): per arm and baseline, then per arm and trial")


def _write_html(args, report: dict) -> None:
    from timing.rendering.html import write_html

    _wrote(args.html, f"page, {write_html(report, args.html)} comparison(s)")


def _write_markdown(args, report: dict, gate_lines: Sequence[str]) -> None:
    from timing.rendering.markdown import write_markdown

    _wrote(args.markdown, f"Markdown, {write_markdown(report, args.markdown, gate_lines)} comparison(s)")


def _write_plot(args, report: dict) -> None:
    from timing.rendering.plot import write_plot

    _wrote(args.plot, f"forest plot and waterfall, {write_plot(report, args.plot)} trial panel(s)")


def _write_crossover_plot(args, report: dict) -> None:
    from timing.rendering.crossover import write_crossover_plot

    drawn = write_crossover_plot(report, args.crossover_plot)
    _wrote(args.crossover_plot, f"crossover, {drawn} measured point(s)")


def _write_json(args, report: dict | None) -> None:
    import orjson

    doc = _json_doc(args, report)
    with open(args.json, "wb") as fh:  # two writes: joining them would copy the 100 MB of 100 000 pods
        fh.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
        fh.write(b"\n")
    _wrote(args.json, f"{len(doc.get('pods', []))} pods, {len(doc.get('comparisons', []))} comparisons")


def write_files(args, report: dict | None, gate_lines: Sequence[str] = ()) -> None:
    """Every file the flags ask for; a failed write is one line naming its flag and file."""
    steps = []
    if report is not None:
        steps += [
            ("--csv", args.csv, lambda: _write_csv(args, report)),
            ("--html", args.html, lambda: _write_html(args, report)),
            ("--markdown", args.markdown, lambda: _write_markdown(args, report, gate_lines)),
            ("--plot", args.plot, lambda: _write_plot(args, report)),
            ("--crossover-plot", args.crossover_plot, lambda: _write_crossover_plot(args, report)),
        ]
    steps.append(("--json", args.json if args.json != "-" else None, lambda: _write_json(args, report)))
    for flag, path, write in steps:
        if not path:
            continue
        try:
            write()
        except OSError as error:
            raise TimingError(f"{flag} {path}: writing it failed: {error.strerror or first_line(error)}") from None


def show_report(args, report: dict | None) -> None:
    """The JSON document (--json with no FILE) or the tables, on stdout."""
    if args.json == "-":
        import orjson

        # Indented for a person at a terminal, compact when piped (orjson: the encoder of the standard
        # library took a tenth of the 10 000-pod budget).
        option = orjson.OPT_INDENT_2 if sys.stdout.isatty() else 0
        # Flushed here, where a closed pipe is caught; not at exit, where it would be exit 120.
        _write_utf8(orjson.dumps(_json_doc(args, report), option=option), b"\n")
        return
    # rich is imported only for the human output: --json stays lean.
    from timing.rendering.table import console_for, print_report, reference_table

    console = console_for(sys.stdout)
    if report is None:
        console.print(reference_table(None))
    else:
        print_report(report, console, reference=args.reference)
        if report.get("crossover"):
            from timing.rendering.crossover import crossover_lines

            for line in crossover_lines(report["crossover"]):
                console.print(f"- {line}", highlight=False)
    sys.stdout.flush()


def _write_utf8(*pieces: bytes) -> None:
    """UTF-8 text to stdout: as bytes when stdout encodes UTF-8 and translates no newline (100 000 pods
    write 100 MB: decoding it only for the text layer to encode it again doubled the memory)."""
    out = sys.stdout
    buffer = getattr(out, "buffer", None)
    encoding = (getattr(out, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    if buffer is None or encoding != "utf8" or os.linesep != "\n":
        for data in pieces:
            out.write(data.decode())
        out.flush()
        return
    out.flush()
    for data in pieces:
        buffer.write(data)
    buffer.flush()


def stdout_closed() -> None:
    """The reader of stdout went away (`| head`): send the rest to /dev/null so the exit flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is no file (captured, closed): nothing to redirect
        pass
