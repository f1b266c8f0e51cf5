"""`report --markdown FILE`: the headlines as GitHub-flavoured Markdown, for a CI job summary."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from timing.rendering.definitions import DEFINITIONS, code_definitions
from timing.rendering.environment import environment
from timing.rendering.headline import (
    CONFIGURED_HEADER,
    FLAGGED_COUNTED,
    cautions,
    codes_shown,
    counted_flagged,
    exclusions,
    headlines,
)

TITLE = "ACR artifact streaming A/B: pod start-up"


def cell(text: str) -> str:
    """One table cell: a pipe or a line break would end the cell or the row."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    head = list(header)
    lines = ["| " + " | ".join(cell(h) for h in head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def _details(summary: str, lines: list[str]) -> list[str]:
    return ["", f"<details><summary>{summary}</summary>", "", *lines, "", "</details>"]


def render_markdown(report: Mapping, gate_lines: Iterable[str] = ()) -> str:
    out = [f"## {TITLE}", ""]
    heads = headlines(report)
    configured = any(h.configured is not None for h in heads)  # a column only when the report records it
    rows = [
        (
            h.comparison,
            h.replicas,
            h.pods_per_node,
            h.speedup,
            ("verified" if h.verified else "**unverified**") + f": {h.checks}",
            *([h.configured or "not recorded"] if configured else []),
        )
        for h in heads
    ]
    if rows:
        header = ("comparison", "replicas", "pods per node", "speed-up [95% interval], trials", "verification")
        out += table((*header, *([CONFIGURED_HEADER] if configured else [])), rows)
    else:
        out.append("No comparison: the report has no pair of a standard and a streaming arm.")
    notes = cautions(report)
    if notes:
        out += ["", *(f"- {cell(line)}" for line in notes)]
    gates = list(gate_lines)
    if gates:
        out += ["", "**CI gate failed:**", *(f"- {cell(line)}" for line in gates)]
    left_out = exclusions(report)
    out += ["", "**Left out, and why:**" if left_out else "Nothing was left out."]
    out += [f"- {cell(line)}" for line in left_out]
    counted = counted_flagged(report)
    if counted:
        out += ["", f"**{FLAGGED_COUNTED}:**", *(f"- {cell(line)}" for line in counted)]
    codes = code_definitions(codes_shown(report))
    if codes:
        out += _details("Codes above", [f"- **{code}**: {cell(meaning)}" for code, meaning in codes])
    out += _details("Environment", table(("fact", "value"), environment(report)))
    out += _details("Definitions", [f"- **{term}**: {cell(text)}" for term, text in DEFINITIONS])
    return "\n".join(out) + "\n"


def write_markdown(report: Mapping, path: str, gate_lines: Iterable[str] = ()) -> int:
    """Write ``path`` (a job summary appends it: ``cat FILE >> "$GITHUB_STEP_SUMMARY"``); returns the comparisons."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(render_markdown(report, gate_lines))
    return len(report.get("comparisons") or ())
