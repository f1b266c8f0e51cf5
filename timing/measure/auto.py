"""``measure --trials auto``: how many more trials the precision target needs, and what they cost.

After a pilot, the spread of the counted trials' log ratios says how many trials a 95 % interval
within ±precision needs (``timing.analysis.stats.trials_needed``); the pilot's measured trial
durations and node counts say how long the extension takes and how many node-hours it costs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import median

from timing.analysis.stats import trials_needed

PILOT_TRIALS = 3


@dataclass(frozen=True)
class AutoTrials:
    precision: float  # 0.10: a 95 % interval within about ±10 % of the estimate
    max_trials: int
    pilot: int = PILOT_TRIALS


def more_trials(report: dict, precision: float) -> tuple[int, str]:
    """Trials still needed (over every comparison) and why, from a report of the trials taken so far."""
    worst, why = 0, "no comparison to measure"
    for c in report["comparisons"]:
        ratios = [t["ratio"] for t in c["speedup"]["per_trial"] if t["ratio"]]
        label = f"{c['workload']}/{c['pair'] or '-'}"
        if len(ratios) < 2:
            extra = 2 - len(ratios)
            reason = f"{label}: {len(ratios)} counted trial(s), the spread is unknown"
        else:
            logs = [math.log(r) for r in ratios]
            mean = sum(logs) / len(logs)
            sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / (len(logs) - 1))
            needed = trials_needed(sd, precision)
            extra = (needed - len(ratios)) if needed is not None else 10**6
            reason = f"{label}: sd(ln ratio) {sd:.3f} over {len(ratios)} counted trial(s) needs {needed or '>10000'}"
        if extra > worst or worst == 0:
            worst, why = max(extra, worst), reason
    return worst, why


def cost(manifests: list[dict], extra_rounds: int) -> str:
    """How long ``extra_rounds`` more trials take and the node-hours they cost, from the trials taken."""
    durations = [m["duration_seconds"] for m in manifests if m.get("duration_seconds") is not None]
    nodes = {n for m in manifests for names in (m.get("nodes") or {}).values() for n in names}
    if not durations:
        return "duration unknown (no trial finished)"
    seconds = median(durations) * extra_rounds
    node_hours = seconds / 3600 * len(nodes)
    return (
        f"about {seconds / 60:.0f} min and {node_hours:.2f} node-hours "
        f"(median trial {median(durations):.0f} s, {len(nodes)} node(s))"
    )
