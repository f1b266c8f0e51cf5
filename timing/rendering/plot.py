"""Pictures of a report: the forest plot of every comparison above the waterfall, both arms per trial.

Each trial row is titled with that trial's own ratio (or why it is left out); the headline is the forest plot's.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence

from timing.rendering.forest import draw_forest, forest_rows
from timing.rendering.waterfall import (
    SYMLOG_LINEAR,
    ArmPanel,
    AxisRule,
    TrialRow,
    axis_label,
    axis_rule,
    comparison_title,
    drawn_phases,
    symlog_ticks,
    trial_rows,
    trial_title,
)

LANE_INCHES = 0.2
FOREST_LANE_INCHES = 0.4
WIDTH_INCHES = 12.0
# Fixed margins in inches, so the layout needs no second drawing pass (bbox "tight" doubled the time).
TOP, BOTTOM_LEGEND = 0.3, 0.6
ABOVE_ROW, BELOW_ROW = 0.75, 0.55  # the comparison line and panel titles; the axis label and ticks
NOTE = 0.3  # under a comparison's last row: how many of its trials were drawn, when not all
COLUMNS = ((1.0, 4.9), (6.9, 4.9))  # (left, width) of the standard and the streaming panel
FOREST_LEFT, FOREST_TITLE = 4.0, 0.4


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _panel_title(panel: ArmPanel) -> str:
    pods = f"{panel.pods} pod" if panel.pods == 1 else f"{panel.pods} pods"
    what = f"quantiles of {pods}" if panel.banded else pods
    odd = f", {panel.not_cold} not cold" if panel.banded and panel.not_cold else ""
    return f"{panel.arm} ({panel.side}): {what}{odd}"


def _bars(ax, panel: ArmPanel) -> None:
    """Every segment of the panel as one PolyCollection: one artist, not one Rectangle per bar."""
    from matplotlib.collections import PolyCollection

    polygons, colours = [], []
    for y, lane in enumerate(panel.lanes):
        for left, width, colour in lane.segments:
            right, top, bottom = left + width, y - 0.35, y + 0.35
            polygons.append(((left, top), (right, top), (right, bottom), (left, bottom)))
            colours.append(colour)
        if lane.note:
            ax.text(0, y, f" {lane.note}", va="center", fontsize=7, color="#c53030")
    if polygons:
        ax.add_collection(PolyCollection(polygons, facecolors=colours, edgecolors="none"))
    else:
        ax.text(0.5, 0.5, "no pod of this arm in this trial", ha="center", va="center", transform=ax.transAxes)


def draw_panel(ax, panel: ArmPanel, rule: AxisRule) -> None:
    _bars(ax, panel)
    ax.set_yticks(range(len(panel.lanes)), [lane.label for lane in panel.lanes], fontsize=6)
    ax.set_ylim(max(len(panel.lanes), 1) - 0.5, -0.5)
    if rule.scale == "symlog":
        from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

        ax.set_xscale("symlog", linthresh=SYMLOG_LINEAR)
        ax.xaxis.set_major_locator(FixedLocator(symlog_ticks(rule.right)))  # the default: 0, 1, 10 only
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.set_xlim(0, rule.right)
    ax.set_xlabel(axis_label(rule), fontsize=8)
    ax.set_title(_panel_title(panel), fontsize=8)
    ax.grid(axis="x", alpha=0.3)


def _axes_height(row: TrialRow) -> float:
    return max(len(row.baseline.lanes), len(row.streaming.lanes), 3) * LANE_INCHES


def _legend(fig, rows: Sequence[TrialRow]) -> None:
    """The phases the picture draws, and no other."""
    from matplotlib.patches import Patch

    phases = drawn_phases(rows)
    if phases:
        handles = [Patch(color=colour, label=label) for label, colour in phases]
        fig.legend(handles=handles, loc="lower center", ncol=len(phases), fontsize=8)


class _Sheet:
    """Places axes top-down in inches on a figure of known height."""

    def __init__(self, fig, height: float):
        self.fig, self.height, self.y = fig, height, TOP

    def place(self, left: float, width: float, height: float):
        """Axes whose top edge is the current line (nothing advances)."""
        box = (left / WIDTH_INCHES, 1 - (self.y + height) / self.height, width / WIDTH_INCHES, height / self.height)
        return self.fig.add_axes(box)

    def skip(self, inches: float) -> None:
        self.y += inches

    def line(self, left: float, text: str) -> None:
        """One line of text at the current line (nothing advances)."""
        self.fig.text(left / WIDTH_INCHES, 1 - (self.y + NOTE / 2) / self.height, text, fontsize=9, va="center")


def _draw_rows(sheet: _Sheet, rows: Sequence[TrialRow], rule: AxisRule) -> None:
    for row in rows:
        h = _axes_height(row)
        sheet.skip(ABOVE_ROW)
        left = sheet.place(*COLUMNS[0], h)
        draw_panel(left, row.baseline, rule)
        draw_panel(sheet.place(*COLUMNS[1], h), row.streaming, rule)
        sheet.skip(h + BELOW_ROW)
        if row.note:
            sheet.line(COLUMNS[0][0], row.note)
            sheet.skip(NOTE)
        left.annotate(
            f"{comparison_title(row.comparison)}, {trial_title(row.trial)}: {row.words}",
            xy=(0, 1),
            xycoords="axes fraction",
            xytext=(0, 18),
            textcoords="offset points",
            fontsize=10,
            fontweight="bold",
        )


def _draw_forest(sheet: _Sheet, rows) -> None:
    h = _forest_height(len(rows))
    sheet.skip(FOREST_TITLE)
    draw_forest(sheet.place(FOREST_LEFT, WIDTH_INCHES - FOREST_LEFT - 0.3, h), rows)
    sheet.skip(h + BELOW_ROW)


def _rows_height(rows: Sequence[TrialRow]) -> float:
    return sum(_axes_height(r) + ABOVE_ROW + BELOW_ROW + (NOTE if r.note else 0) for r in rows)


def waterfall_figure(rows: Sequence[TrialRow], rule: AxisRule):
    plt = _pyplot()
    height = TOP + _rows_height(rows) + BOTTOM_LEGEND
    fig = plt.figure(figsize=(WIDTH_INCHES, height))
    _draw_rows(_Sheet(fig, height), rows, rule)
    _legend(fig, rows)
    return fig


def _forest_height(n: int) -> float:
    return FOREST_LANE_INCHES * max(n, 1)


def forest_figure(report: Mapping):
    plt = _pyplot()
    rows = forest_rows(report)
    height = TOP + FOREST_TITLE + _forest_height(len(rows)) + BELOW_ROW
    fig = plt.figure(figsize=(WIDTH_INCHES, height))
    _draw_forest(_Sheet(fig, height), rows)
    return fig


def svg_of(fig, salt: str) -> str:
    """The figure as inline SVG, its text kept as text; ``salt`` keeps element ids unique on one page."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg")
    _pyplot().close(fig)
    text = buf.getvalue()
    # matplotlib numbers ids per figure (figure_1, axes_1 ...): prefixed, two pictures on a page never share one.
    text = re.sub(r'(\bid="|url\(#|href="#)', lambda m: f"{m.group(1)}{salt}-", text)
    return text[text.index("<svg") :]


def write_plot(report: Mapping, path: str) -> int:
    """Write the forest plot and the waterfall to `path` (format from its extension); returns the trial panels."""
    plt = _pyplot()
    rows = trial_rows(report)
    rule = axis_rule(rows)
    forest = forest_rows(report)
    forest_h = FOREST_TITLE + _forest_height(len(forest)) + BELOW_ROW
    height = TOP + forest_h + _rows_height(rows) + BOTTOM_LEGEND + (0 if rows else 1.0)
    fig = plt.figure(figsize=(WIDTH_INCHES, height))
    sheet = _Sheet(fig, height)
    _draw_forest(sheet, forest)
    if not rows:
        fig.text(0.5, BOTTOM_LEGEND / height + 0.02, "no comparison in this report: no waterfall", ha="center")
    _draw_rows(sheet, rows, rule)
    _legend(fig, rows)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return len(rows)
