"""CI gates on a report: `--fail-below X` and `--require-verified` (exit 3 when one fails).

A gate that has nothing to hold against fails too: a pipeline must not pass on an empty report.
Definitions: docs/timing.md ("Gating CI on a report").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class GateResult:
    failures: list[str] = field(default_factory=list)  # each one line; any → exit 3
    notes: list[str] = field(default_factory=list)  # what the gates did not look at, and why

    @property
    def failed(self) -> bool:
        return bool(self.failures)


def comparison_label(c: Mapping) -> str:
    return f"{c.get('workload')}/{c.get('pair') or 'no pair'} ({c.get('baseline_arm')} vs {c.get('streaming_arm')})"


def is_verified(c: Mapping) -> bool:
    """Verified = streaming and cold both shown true by evidence; null (no evidence) is not verified."""
    v = c.get("verified") or {}
    return v.get("streaming") is True and v.get("cold") is True


_MARKS: dict[object, str] = {True: "ok", False: "NO"}


def _verified_words(c: Mapping) -> str:
    v = c.get("verified") or {}
    return ", ".join(f"{k} {_MARKS.get(v.get(k), '?')}" for k in ("streaming", "cold"))


def _counted_trials(c: Mapping) -> int:
    return int((c.get("speedup") or {}).get("n_trials") or 0)


def require_verified(report: Mapping, result: GateResult) -> None:
    comparisons = report.get("comparisons") or []
    if not comparisons:
        result.failures.append("--require-verified: the report has no comparison, so no verified headline")
    for c in comparisons:
        if not is_verified(c):
            result.failures.append(f"--require-verified: {comparison_label(c)} is not verified ({_verified_words(c)})")


def shown(x: float) -> str:
    """``x`` as a gate line writes it: short (2, 3.727), yet never rounded to another number."""
    return f"{x:g}" if float(f"{x:g}") == x else repr(x)


def below_words(bound: float, threshold: float) -> str:
    """The lower bound with 2 decimals, or more until it reads below the threshold (3.7268x, not 3.73x, below 3.727x)."""
    digits = 2
    while digits < 17 and float(f"{bound:.{digits}f}") >= threshold:
        digits += 1
    return f"{bound:.{digits}f}x is below {shown(threshold)}x"


def fail_below(report: Mapping, threshold: float, result: GateResult) -> None:
    gated = 0
    for c in report.get("comparisons") or ():
        label = comparison_label(c)
        if _counted_trials(c) == 0:
            result.notes.append(f"--fail-below: {label} not gated: no counted trial")
            continue
        if not is_verified(c):
            result.notes.append(
                f"--fail-below: {label} not gated: not verified ({_verified_words(c)}); --require-verified fails on it"
            )
            continue
        gated += 1
        ci = (c.get("speedup") or {}).get("ci95")
        if not ci:
            result.failures.append(
                f"--fail-below {shown(threshold)}: {label} has no interval (one trial): no lower bound"
            )
        elif ci[0] < threshold:
            result.failures.append(
                f"--fail-below {shown(threshold)}: {label} speed-up lower bound {below_words(ci[0], threshold)}"
            )
    if gated == 0:
        result.failures.append(f"--fail-below {shown(threshold)}: no counted, verified speed-up to hold against it")


def evaluate_gates(report: Mapping, threshold: float | None, verified_required: bool) -> GateResult:
    result = GateResult()
    if verified_required:
        require_verified(report, result)
    if threshold is not None:
        fail_below(report, threshold, result)
    return result
