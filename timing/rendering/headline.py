"""The words of a hand-on report, shared by the HTML page and the Markdown summary.

Per comparison: the headline with its interval, replicas, pods per node and verification; and
every trial or pod left out, with why. Keys the report does not carry read as "not recorded".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeGuard

from timing.analysis.gating import is_verified
from timing.rendering.definitions import CODES, VERDICT_PREFIX
from timing.rendering.forest import speedup_words
from timing.rendering.numbers import count_text
from timing.rendering.waterfall import comparison_title

CHECK_WORDS = {True: "yes", False: "NO (contradicted)", None: "no evidence"}


@dataclass
class Headline:
    comparison: str
    arms: str
    replicas: str
    pods_per_node: str
    speedup: str
    verified: bool
    checks: str  # the evidence behind "verified": streaming and cold, never configured
    configured: str | None  # the set-up, not evidence; None when the report has no verified.configured


def _per_arm(value: object, c: Mapping) -> str | None:
    """A per-arm figure given as a number, or as {arm name or side: number}."""
    if _is_number(value):
        return count_text(value)
    if isinstance(value, Mapping):
        b = value.get(c.get("baseline_arm"), value.get("baseline", value.get("standard")))
        s = value.get(c.get("streaming_arm"), value.get("streaming"))
        if b is not None or s is not None:
            return f"standard {_number(b)}, streaming {_number(s)}"
    return None


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: object) -> str:
    return count_text(value) if _is_number(value) else "?"


def _pods_per_trial(report: Mapping, arm: str) -> str:
    counts = sorted({t.get("pods") for t in ((report.get("arms") or {}).get(arm) or {}).get("trials") or ()})
    return "/".join(str(n) for n in counts if n is not None) or "?"


def _replicas(report: Mapping, c: Mapping) -> str:
    given = _per_arm(c.get("replicas"), c)
    if given:
        return given
    b, s = _pods_per_trial(report, c["baseline_arm"]), _pods_per_trial(report, c["streaming_arm"])
    return f"standard {b}, streaming {s} pods per trial"


def _check(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return CHECK_WORDS[value]
    return "recorded (see the JSON)"


CONFIGURED_HEADER = "configured (set-up, not evidence)"


def checks_words(c: Mapping) -> str:
    """The verification cell: only the checks "verified" is made of (configured is not one of them)."""
    v = c.get("verified") or {}
    return ", ".join(f"{name}: {_check(v.get(name))}" for name in ("streaming", "cold"))


def configured_words(c: Mapping) -> str | None:
    v = c.get("verified") or {}
    return _check(v.get("configured")) if "configured" in v else None


def headlines(report: Mapping) -> list[Headline]:
    return [
        Headline(
            comparison=comparison_title(c),
            arms=f"{c.get('baseline_arm')} (standard) vs {c.get('streaming_arm')} (streaming)",
            replicas=_replicas(report, c),
            pods_per_node=_per_arm(c.get("pods_per_node"), c) or "not recorded",
            speedup=speedup_words(c.get("speedup")),
            verified=is_verified(c),
            checks=checks_words(c),
            configured=configured_words(c),
        )
        for c in report.get("comparisons") or ()
    ]


def cautions(report: Mapping) -> list[str]:
    """What a reader of a headline must know (one trial, a wide interval, drift ...), as the report says it."""
    return [f"{comparison_title(c)}: {w}." for c in report.get("comparisons") or () for w in c.get("warnings") or ()]


def _counts(counts: Mapping) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in counts.items())


def pods_left_out_line(name: str, a: Mapping) -> str:
    """One arm's pods left out of its pod figures, by reason: the same words in every output."""
    return f"{name}: pods left out of the pod figures: {_counts(a['excluded'])} (of {a.get('pods')} pods)."


FLAGGED_COUNTED = "Flagged trials counted because --include-flagged was given"


def flagged_trial_line(t: Mapping) -> str:
    """One flagged trial of a results folder: its verdict, why it was flagged, and whether it counts."""
    state = "counted (--include-flagged)" if t.get("included") else "excluded"
    reasons = "; ".join(str(r) for r in t.get("reasons") or ()) or "no reason recorded"
    # A trial folder without its manifest has neither an index nor a verdict: say nothing rather than "None".
    index = f" (#{t['index']})" if t.get("index") is not None else ""
    verdict = f", {VERDICT_PREFIX}{t['verdict']}" if t.get("verdict") is not None else ""
    return f"trial {t.get('id')}{index} flagged{verdict} ({reasons}), {state}."


def exclusions(report: Mapping) -> list[str]:
    """Every trial left out of a speed-up, every flagged trial left out, every pod left out of pod figures."""
    out = []
    for c in report.get("comparisons") or ():
        left_out = (c.get("speedup") or {}).get("excluded_trials") or {}
        if left_out:
            out.append(f"{comparison_title(c)}: trials left out of the speed-up: {_counts(left_out)}.")
    out += [flagged_trial_line(t) for t in report.get("trials") or () if t.get("flagged") and not t.get("included")]
    for name, a in (report.get("arms") or {}).items():
        if a.get("excluded"):
            out.append(pods_left_out_line(name, a))
    return out


def counted_flagged(report: Mapping) -> list[str]:
    """Flagged trials the speed-ups counted all the same (--include-flagged): never under a left-out heading."""
    return [flagged_trial_line(t) for t in report.get("trials") or () if t.get("flagged") and t.get("included")]


def codes_shown(report: Mapping) -> list[str]:
    """Every code the exclusions, the cautions and the waterfall titles of a page show, in a fixed order."""
    codes: dict[str, None] = {}
    for c in report.get("comparisons") or ():
        sp = c.get("speedup") or {}
        codes.update(dict.fromkeys(sp.get("excluded_trials") or {}))
        for t in sp.get("left_out_trials") or ():
            codes.update(dict.fromkeys(t.get("reasons") or ()))
        codes.update(dict.fromkeys(c.get("flags") or ()))
        for t in sp.get("per_trial") or ():  # counted with flags (--include-flagged): the waterfall names them
            codes.update(dict.fromkeys(t.get("flags") or ()))
        for w in c.get("warnings") or ():  # "node_image_mismatch: trial ...", "drift: the ... ratio trends ..."
            head = str(w).split(":", 1)[0]
            if head in CODES:
                codes[head] = None
    for t in report.get("trials") or ():
        if t.get("flagged"):
            if t.get("verdict") is not None:  # a trial folder without its manifest has no verdict
                codes[f"{VERDICT_PREFIX}{t.get('verdict')}"] = None
            codes.update(dict.fromkeys(t.get("flags") or ()))
    for a in (report.get("arms") or {}).values():
        codes.update(dict.fromkeys(a.get("excluded") or {}))
    return list(codes)
