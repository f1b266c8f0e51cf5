"""`compare A B` for a person: one table of speed-up ratios, then what only one run holds."""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Console

from timing.rendering.forest import speedup_words
from timing.rendering.numbers import interval_text, no_estimate_text, ratio_text
from timing.rendering.table import new_table
from timing.rendering.waterfall import comparison_title

DIFFER_WORDS = {True: "yes", False: "no", None: "cannot say"}
FOOTER = (
    "B / A [95% CI]: Welch's interval on the per-trial log ratios, widened for the clocks as each headline is.",
    "differ: yes when that interval leaves out 1, no when it holds 1.",
)


def ratio_words(entry: Mapping) -> str:
    if entry.get("ratio") is None:
        # As `report`: below two trials there is no estimate, not a point ratio.
        n = min(int((entry.get(side) or {}).get("n_trials") or 0) for side in ("a", "b"))
        return no_estimate_text(n)
    ci = entry.get("ci95")
    return f"{ratio_text(entry['ratio'])}x" + (f" {interval_text(ci)}" if ci else ", no interval")


def _side(side: Mapping) -> str:
    return speedup_words(side) + ("" if side.get("verified") else ", unverified")


def print_compare(result: Mapping, a_label: str, b_label: str, console: Console) -> None:
    t = new_table(f"speed-up of B / speed-up of A (A: {a_label}; B: {b_label})")
    for header in ("comparison", "A", "B", "B / A [95% CI]", "differ"):
        t.add_column(header, overflow="fold")
    for c in result.get("comparisons") or ():
        t.add_row(comparison_title(c), _side(c["a"]), _side(c["b"]), ratio_words(c), DIFFER_WORDS[c.get("differ")])
    if result.get("comparisons"):
        console.print(t)
        # Notes under the table as report prints its own, one phrase each: a centred caption broke mid-phrase.
        for line in FOOTER:
            console.print(f"- {line}", highlight=False)
    else:
        console.print("No comparison is present in both runs (matched by workload, pair and arm names).")
    for key, label in (("only_in_a", a_label), ("only_in_b", b_label)):
        for c in result.get(key) or ():
            console.print(
                f"- only in {label}: {comparison_title(c)} ({c.get('baseline_arm')} vs {c.get('streaming_arm')})",
                highlight=False,
            )
    if any(c.get("differ") is None for c in result.get("comparisons") or ()):
        console.print(
            "- cannot say: a run has fewer than 2 counted trials (no estimate), or neither run's trials vary "
            "and no clock resolution is recorded.",
            highlight=False,
        )
