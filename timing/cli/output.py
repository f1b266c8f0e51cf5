"""What `report` puts out: the files it was asked for (--csv, --plot, --crossover-plot, --json FILE), then stdout."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from timing.errors import TimingError, UsageError, first_line


def _input_files(inputs: Iterable[str]) -> set[Path]:
    """Every file the run reads: each named file, and every file below each named folder."""
    found: set[Path] = set()
    for text in inputs:
        path = Path(text).expanduser()
        if path.is_dir():
            found |= {f.resolve() for f in path.rglob("*") if f.is_file()}
        elif path.is_file():
            found.add(path.resolve())
    return found


def check_outputs(outputs: Mapping[str, str | None], inputs: Iterable[str]) -> None:
    """Each output flag names its own file, in an existing folder, that the run does not read;
    ``-`` (standard output) is for --json alone. Checked before anything is read or written."""
    reads = _input_files(inputs)
    written: dict[Path, str] = {}
    for flag, target in outputs.items():
        if target is None or (target == "-" and flag == "--json"):
            continue
        if not target.strip():
            raise UsageError(f"{flag}: an empty file name (an unset variable?); give the file to write")
        if target == "-":
            raise UsageError(f"{flag} -: only --json writes to standard output; give the file to write")
        path = Path(target).expanduser().resolve()
        if not path.parent.is_dir():
            raise UsageError(f"{flag} {target}: the folder {path.parent} does not exist")
        if path in reads:
            raise UsageError(f"{flag} {target}: this run reads that file; writing it would destroy it; give another")
        if path in written:
            raise UsageError(f"{flag} {target}: {written[path]} writes the same file; give each output its own")
        written[path] = flag


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
    doc = _json_doc(args, report)
    with open(args.json, "wb") as fh:
        fh.writelines(json_pieces(doc, indent=True))
        fh.write(b"\n")
    _wrote(args.json, f"{len(doc.get('pods', []))} pods, {len(doc.get('comparisons', []))} comparisons")


# A report's pods are most of its text (100 MB for 100 000 pods): they are encoded this many at a time.
PODS_PER_PIECE = 2000


def json_pieces(doc: dict, indent: bool = False) -> Iterator[bytes]:
    """``orjson.dumps(doc)`` (``OPT_INDENT_2`` with ``indent``) in pieces that join to the same bytes: the
    pods a few thousand at a time, so the whole text of a large report is never in memory at once."""
    import orjson

    option = orjson.OPT_INDENT_2 if indent else 0
    pods = doc.get("pods")
    if type(pods) is not list or len(pods) <= PODS_PER_PIECE:
        yield orjson.dumps(doc, option=option)
        return
    keys = list(doc)
    at = keys.index("pods")
    head = orjson.dumps({k: doc[k] for k in keys[:at]}, option=option)
    # Indented, an element of the pods' list sits one level (two spaces) deeper than in a list of its
    # own; a newline is never inside a JSON string, so each one starts a line to shift.
    opened, between, shift = (b'\n  "pods": [\n', b",\n", b"\n  ") if indent else (b'"pods":[', b",", None)
    yield (head[: -2 if indent else -1] + b"," + opened) if at else (b"{" + opened)
    for start in range(0, len(pods), PODS_PER_PIECE):
        text = orjson.dumps(pods[start : start + PODS_PER_PIECE], option=option)
        yield (between if start else b"") + (b"  " + text[2:-2].replace(b"\n", shift) if shift else text[1:-1])
    closed = b"\n  ]" if indent else b"]"
    if at + 1 < len(keys):
        yield closed + b"," + orjson.dumps({k: doc[k] for k in keys[at + 1 :]}, option=option)[1:]
    else:
        yield closed + (b"\n}" if indent else b"}")


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
        # Indented for a person at a terminal, compact when piped (orjson: the encoder of the standard
        # library took a tenth of the 10 000-pod budget). Flushed here, where a closed pipe is caught; not at exit, where it would be exit 120.
        _write_utf8(itertools.chain(json_pieces(_json_doc(args, report), indent=sys.stdout.isatty()), [b"\n"]))
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


def _write_utf8(pieces: Iterable[bytes]) -> None:
    """UTF-8 text to stdout: as bytes when stdout encodes UTF-8 and translates no newline (100 000 pods
    write 100 MB: decoding it only for the text layer to encode it again doubled the memory). Each piece
    is written as it comes, so only one is ever held."""
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
