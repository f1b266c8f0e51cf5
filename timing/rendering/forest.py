"""Forest plot: every comparison's speed-up with its 95 % interval on one log axis, 1x marked.

Verified comparisons are drawn solid, the others hollow and labelled unverified; a comparison
without an estimate is named with the reason instead of a point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from timing.analysis.gating import is_verified
from timing.rendering.numbers import interval_text, no_estimate_text, ratio_text
from timing.rendering.waterfall import comparison_title

VERIFIED_COLOUR, UNVERIFIED_COLOUR = "#1a365d", "#c05621"


@dataclass
class ForestRow:
    label: str
    estimate: float | None
    ci95: tuple[float, float] | None
    n_trials: int
    verified: bool


def forest_rows(report: Mapping) -> list[ForestRow]:
    rows = []
    for c in report.get("comparisons") or ():
        sp = c.get("speedup") or {}
        ci = sp.get("ci95")
        rows.append(
            ForestRow(
                comparison_title(c),
                sp.get("estimate"),
                (float(ci[0]), float(ci[1])) if ci else None,
                int(sp.get("n_trials") or 0),
                is_verified(c),
            )
        )
    return rows


def _limits(rows: Sequence[ForestRow]) -> tuple[float, float]:
    values = [1.0]
    for r in rows:
        values += [v for v in (r.estimate, *(r.ci95 or ())) if v is not None and v > 0]
    return min(values) / 1.5, max(values) * 1.5


def speedup_words(sp: Mapping | None) -> str:
    """``4.2x [3.1 to 5.6], n=5`` or why there is no figure; never a bare dash."""
    sp = sp or {}
    n = int(sp.get("n_trials") or 0)
    if sp.get("estimate") is None:
        return no_estimate_text(n)
    ci = sp.get("ci95")
    interval = f" {interval_text(ci)}" if ci else ", no interval"
    return f"{ratio_text(sp['estimate'])}x{interval}, n={n}"


def row_text(r: ForestRow) -> str:
    words = speedup_words({"estimate": r.estimate, "ci95": r.ci95, "n_trials": r.n_trials})
    return f"{r.label}: {words}{'' if r.verified or r.estimate is None else ', unverified'}"


def draw_forest(ax, rows: Sequence[ForestRow]) -> None:
    """Draw on a matplotlib Axes; the y axis lists the comparisons top-down."""
    lo, hi = _limits(rows)
    from matplotlib.ticker import FuncFormatter, LogLocator

    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}x"))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda _v, _pos: ""))
    ax.axvline(1.0, color="#555555", linewidth=1, linestyle="--")
    for y, r in enumerate(rows):
        colour = VERIFIED_COLOUR if r.verified else UNVERIFIED_COLOUR
        if r.estimate is None:
            continue  # its label says why
        if r.ci95:
            ax.plot(r.ci95, (y, y), color=colour, linewidth=2)
        face = colour if r.verified else "white"
        ax.plot([r.estimate], [y], marker="s", markersize=7, color=colour, markerfacecolor=face)
    ax.set_yticks(range(len(rows)), [row_text(r) for r in rows], fontsize=8)
    ax.set_ylim(max(len(rows), 1) - 0.5, -0.5)
    ax.set_xlabel("arm-ready speed-up (standard / streaming), log scale; dashed line: 1x, no change")
    ax.set_title("speed-up per comparison, 95% interval over trials (hollow: unverified)", fontsize=10)
    ax.grid(axis="x", alpha=0.3, which="both")
