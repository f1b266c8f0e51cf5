"""What the waterfall shows, before anything is drawn: lanes of phase bars per arm and trial.

Up to ``MAX_PODS_AS_BARS`` pods of an arm's trial get one lane each; beyond that the lanes are
quantiles of the pods' phase ends (so a picture of 100 000 pods is as large as one of 400), and
one axis rule holds for every panel. Definitions: docs/timing.md ("The pictures: forest plot and waterfall").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from timing.analysis.speedup import trial_ids
from timing.rendering.numbers import ratio_text

MAX_TRIALS_PLOTTED = 6
MAX_PODS_AS_BARS = 40
BAND_QUANTILES = (0, 5, 10, 25, 50, 75, 90, 95, 100)
SYMLOG_SPREAD = 10.0  # arms more than 10x apart: a symmetric-log axis keeps both readable
SYMLOG_LINEAR = 1.0  # seconds: a symmetric-log axis is linear up to here, so 0 stays on it
# (label, end key, colour): seconds from pod creation, as in the report's pods[]; a phase starts where
# the previous known one ended.
PHASES = (
    ("scheduling", "scheduled_seconds", "#bbbbbb"),
    ("waiting", "pull_start_seconds", "#e2e2e2"),
    ("pull", "pull_end_seconds", "#2b6cb0"),
    ("start", "started_seconds", "#9ab7d8"),
    ("to Ready", "ready_seconds", "#38a169"),
    ("app start-up read", "app_ready_seconds", "#e07b00"),
)

Segment = tuple[float, float, str]  # (left, width, colour)


@dataclass
class Lane:
    label: str
    segments: list[Segment]
    note: str = ""  # a pod's class when it is not cold


@dataclass
class ArmPanel:
    arm: str
    side: str  # "standard" or "streaming"
    pods: int
    lanes: list[Lane]
    banded: bool
    not_cold: int


@dataclass
class TrialRow:
    comparison: Mapping
    trial: object
    baseline: ArmPanel
    streaming: ArmPanel
    words: str  # the trial's own ratio, or why the speed-up left it out: never the comparison's headline
    note: str = ""  # on a comparison's last row drawn, when trials were left out of the picture


@dataclass
class AxisRule:
    scale: str  # "linear" or "symlog"
    right: float  # every panel's axis ends here (seconds from creation)


NO_PAIR = "(no pair label)"


def comparison_title(c: Mapping) -> str:
    """A comparison's name in every output: ``vote, pair v1``, or ``vote (no pair label)``."""
    return f"{c.get('workload')}, pair {c.get('pair')}" if c.get("pair") else f"{c.get('workload')} {NO_PAIR}"


def trial_title(trial: object) -> str:
    return f"trial {trial}" if trial is not None else "pods without a trial label"


def phase_ends(pod: Mapping) -> list[float | None]:
    """The end of each phase of PHASES for one pod of the report (pull: first start, last end)."""
    pulls = [c for c in pod.get("containers") or () if c.get("source") == "pulled"]
    starts = [c["pull_start_seconds"] for c in pulls if c.get("pull_start_seconds") is not None]
    ends = [c["pull_end_seconds"] for c in pulls if c.get("pull_end_seconds") is not None]
    known = {k: pod.get(k) for k in ("scheduled_seconds", "started_seconds", "ready_seconds", "app_ready_seconds")}
    known["pull_start_seconds"] = min(starts) if starts else None
    known["pull_end_seconds"] = max(ends) if ends else None
    return [known[key] for _label, key, _colour in PHASES]


def segments(ends: Sequence[float | None]) -> list[Segment]:
    """Contiguous bars from creation; a missing or earlier point is skipped, its phase merged into the next."""
    out, last = [], 0.0
    for (_label, _key, colour), t in zip(PHASES, ends, strict=True):
        if t is None or t != t or t < last:  # t != t: NaN, a quantile of no value
            continue
        out.append((last, t - last, colour))
        last = t
    return out


def pod_lanes(pods: Sequence[Mapping]) -> list[Lane]:
    ordered = sorted(pods, key=lambda p: p["name"])
    return [
        Lane(p["name"][-14:], segments(phase_ends(p)), "" if p.get("class") == "cold" else str(p.get("class")))
        for p in ordered
    ]


def band_lanes(pods: Sequence[Mapping]) -> list[Lane]:
    """One lane per quantile of BAND_QUANTILES: each phase's end at that quantile over the pods."""
    ends = np.array([[np.nan if v is None else v for v in phase_ends(p)] for p in pods], dtype=float)
    table = np.full((len(BAND_QUANTILES), len(PHASES)), np.nan)
    for col in range(len(PHASES)):
        known = ends[:, col][~np.isnan(ends[:, col])]
        if known.size:
            table[:, col] = np.percentile(known, BAND_QUANTILES)
    names = {0: "min", 50: "median", 100: "max"}
    return [
        Lane(names.get(q, f"p{q}"), segments([float(v) for v in row]))
        for q, row in zip(BAND_QUANTILES, table, strict=True)
    ]


def arm_panel(arm: str, side: str, pods: Sequence[Mapping]) -> ArmPanel:
    banded = len(pods) > MAX_PODS_AS_BARS
    not_cold = sum(1 for p in pods if p.get("class") != "cold")
    lanes = band_lanes(pods) if banded else pod_lanes(pods)
    return ArmPanel(arm, side, len(pods), lanes, banded, not_cold)


def comparison_trials(report: Mapping, c: Mapping) -> list:
    """The comparison's trials as the speed-up takes them: the standard arm's, then the streaming arm's own."""
    arms = report.get("arms") or {}
    b, s = ((arms.get(c[k]) or {}).get("trials") or [] for k in ("baseline_arm", "streaming_arm"))
    return trial_ids(b, s)


def drawn_words(drawn: int, total: int) -> str:
    if drawn == total:
        return f"all {total} trial{'' if total == 1 else 's'} drawn"
    return f"first {drawn} of {total} trials drawn (at most {MAX_TRIALS_PLOTTED} per comparison)"


def trial_words(c: Mapping, trial: object) -> str:
    """The trial's own arm-ready ratio (standard/streaming), or why the speed-up left it out."""
    sp = c.get("speedup") or {}
    entry = next((t for t in sp.get("per_trial") or () if t.get("trial") == trial), None)
    if entry and entry.get("counted", True) is not False and entry.get("ratio") is not None:
        b, s = entry["baseline"], entry["streaming"]
        text = f"arm-ready {b:.1f} s standard / {s:.1f} s streaming = {ratio_text(entry['ratio'])}x"
        flags = entry.get("flags")
        return text + (f", counted with flag(s) {', '.join(flags)}" if flags else "")
    left = next((t for t in sp.get("left_out_trials") or () if t.get("trial") == trial), None)
    reasons = ", ".join(str(r) for r in left.get("reasons") or ()) if left else ""
    return f"left out: {reasons or 'reason not recorded'}"


def trial_rows(report: Mapping) -> list[TrialRow]:
    """Both arms of every comparison, per trial (its first MAX_TRIALS_PLOTTED, see comparison_trials)."""
    by_arm_trial: dict[tuple, list[Mapping]] = defaultdict(list)
    for p in report.get("pods") or ():
        by_arm_trial[(p.get("arm"), p.get("trial"))].append(p)
    rows = []
    for c in report.get("comparisons") or ():
        trials = comparison_trials(report, c)
        for trial in trials[:MAX_TRIALS_PLOTTED]:
            b = arm_panel(c["baseline_arm"], "standard", by_arm_trial.get((c["baseline_arm"], trial), []))
            s = arm_panel(c["streaming_arm"], "streaming", by_arm_trial.get((c["streaming_arm"], trial), []))
            rows.append(TrialRow(c, trial, b, s, trial_words(c, trial)))
        if len(trials) > MAX_TRIALS_PLOTTED:
            rows[-1].note = f"{comparison_title(c)}: {drawn_words(MAX_TRIALS_PLOTTED, len(trials))}"
    return rows


def axis_rule(rows: Sequence[TrialRow]) -> AxisRule:
    """One scale and one right edge for every panel, from the lanes' ends over the whole picture."""
    finishes = [
        lane.segments[-1][0] + lane.segments[-1][1]
        for row in rows
        for panel in (row.baseline, row.streaming)
        for lane in panel.lanes
        if lane.segments
    ]
    positive = [f for f in finishes if f > 0]
    if not positive:
        return AxisRule("linear", 1.0)
    right = max(positive) * 1.05
    scale = "symlog" if max(positive) / min(positive) > SYMLOG_SPREAD else "linear"
    return AxisRule(scale, right)


def axis_label(rule: AxisRule) -> str:
    """The x axis label, naming the scale: a symmetric-log axis read as linear would mislead."""
    if rule.scale == "symlog":
        return f"seconds from pod creation (linear to {SYMLOG_LINEAR:g} s, log beyond)"
    return "seconds from pod creation"


def symlog_ticks(right: float) -> list[float]:
    """Ticks of a symmetric-log axis up to ``right``: 0, then 1, 2, 5 per decade, so a bar of 73 s is read off."""
    ticks, decade = [0.0], SYMLOG_LINEAR
    while decade <= right:
        ticks += [m * decade for m in (1, 2, 5) if m * decade <= right]
        decade *= 10
    return ticks


def drawn_phases(rows: Sequence[TrialRow]) -> list[tuple[str, str]]:
    """(label, colour) of each phase some lane of the picture draws with a width: the legend lists no other."""
    colours = {
        colour
        for row in rows
        for panel in (row.baseline, row.streaming)
        for lane in panel.lanes
        for _left, width, colour in lane.segments
        if width > 0
    }
    return [(label, colour) for label, _key, colour in PHASES if colour in colours]
