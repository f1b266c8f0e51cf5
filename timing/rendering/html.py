"""`report --html FILE`: one self-contained page for a reader who will not open a terminal.

No external resource: the style is inline and every picture inline SVG (its text kept as text).
The page: headlines, forest plot, waterfall per trial, environment, exclusions, definitions.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

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
from timing.rendering.waterfall import (
    axis_label,
    axis_rule,
    comparison_title,
    comparison_trials,
    drawn_words,
    trial_rows,
)

TITLE = "ACR artifact streaming A/B: pod start-up report"
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 75rem; color: #1a202c; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 1px solid #cbd5e0; padding-bottom: .2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .3rem .5rem; }
th { background: #edf2f7; } tr + tr td { border-top: 1px solid #e2e8f0; }
.verified { color: #22543d; font-weight: 600; } .unverified { color: #9c4221; font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
dt { font-weight: 600; } figure { margin: 1rem 0; overflow-x: auto; } svg { max-width: 100%; height: auto; }
"""


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>\n{body}\n</section>'


def _headline_table(report: Mapping) -> str:
    heads = headlines(report)
    configured = any(h.configured is not None for h in heads)  # a column only when the report records it
    rows = []
    for h in heads:
        mark = "verified" if h.verified else "unverified"
        rows.append(
            "<tr>"
            + "".join(f"<td>{escape(v)}</td>" for v in (h.comparison, h.arms, h.replicas, h.pods_per_node, h.speedup))
            + f'<td class="{mark}">{mark}: {escape(h.checks)}</td>'
            + (f"<td>{escape(h.configured or 'not recorded')}</td>" if configured else "")
            + "</tr>"
        )
    if not rows:
        return "<p>No comparison: the report has no pair of a standard and a streaming arm.</p>"
    titles = ("comparison", "arms", "replicas", "pods per node", "speed-up [95% interval], trials", "verification")
    head = "".join(f"<th>{escape(t)}</th>" for t in (*titles, *([CONFIGURED_HEADER] if configured else [])))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _list(lines: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>" if lines else ""


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def _pictures(report: Mapping) -> tuple[str, str]:
    from timing.rendering.plot import forest_figure, svg_of, waterfall_figure

    forest = _figure(
        svg_of(forest_figure(report), salt="forest"),
        "Each comparison's arm-ready speed-up with its 95% interval over trials, on a log axis; the dashed line is 1x.",
    )
    rows = trial_rows(report)
    rule = axis_rule(rows)  # one axis rule over every panel of the page
    parts = []
    for i, c in enumerate(report.get("comparisons") or ()):
        mine = [r for r in rows if r.comparison is c]
        if mine:
            svg = svg_of(waterfall_figure(mine, rule), salt=f"waterfall-{i}")
            total = len(comparison_trials(report, c))
            caption = (
                f"Both arms per trial, titled with the trial's own ratio: {drawn_words(len(mine), total)}; "
                f"x axis: {axis_label(rule)}."
            )
            parts.append(f"<h3>{escape(comparison_title(c))}</h3>" + _figure(svg, caption))
    return forest, "\n".join(parts) or "<p>No comparison, so no waterfall.</p>"


def _facts(pairs) -> str:
    return '<dl class="facts">' + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in pairs) + "</dl>"


def render_html(report: Mapping) -> str:
    forest, waterfalls = _pictures(report)
    excluded = _list(exclusions(report)) or "<p>Nothing was left out.</p>"
    counted = counted_flagged(report)
    codes = code_definitions(codes_shown(report))
    if codes:
        excluded += "<h3>Codes on this page</h3>" + _facts(codes)
    body = "\n".join(
        (
            f"<h1>{escape(TITLE)}</h1>",
            _section("headlines", "Headline per comparison", _headline_table(report) + _list(cautions(report))),
            _section("forest", "All comparisons", forest),
            _section("waterfall", "Waterfall per trial", waterfalls),
            _section("environment", "Environment", _facts(environment(report))),
            _section("excluded", "Excluded trials and pods, and why", excluded),
            # Counted, so never under the excluded heading: a section of its own when there are any.
            _section("flagged-counted", FLAGGED_COUNTED, _list(counted)) if counted else "",
            _section("definitions", "Definitions", _facts(DEFINITIONS)),
        )
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(TITLE)}</title><style>{STYLE}</style></head>\n<body><main>\n{body}\n</main></body></html>\n"
    )


def write_html(report: Mapping, path: str) -> int:
    """Write the page; returns the number of comparisons on it."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(render_html(report))
    return len(report.get("comparisons") or ())
