"""The definitions a hand-on report carries (HTML and Markdown), worded as docs/timing.md words them.

``CODES`` and ``VERDICTS`` are the one home of what each code a page shows means: the reasons a pod or
a trial is left out, the flags, and ``measure``'s verdicts on a trial.
"""

from __future__ import annotations

from collections.abc import Iterable

from timing.analysis import classify, protocol
from timing.analysis.speedup import ARM_MISSING, NO_APP_SIGNAL, NOT_READY, NOT_STREAMED, SPEEDUP_METRICS
from timing.analysis.stats import MIN_N_FOR
from timing.rendering.waterfall import (
    BAND_QUANTILES,
    MAX_PODS_AS_BARS,
    MAX_TRIALS_PLOTTED,
    SYMLOG_LINEAR,
    SYMLOG_SPREAD,
)
from timing.sources.results import INCOMPLETE

_BANDS = ", ".join({0: "min", 50: "median", 100: "max"}.get(q, f"p{q}") for q in BAND_QUANTILES)
_RES = SPEEDUP_METRICS["arm_ready"][1]

DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "arm-ready",
        "per trial and arm: the last pod of the arm Ready minus the first pod of the arm created, over every "
        "replica and every component; no figure when a pod is not Ready.",
    ),
    (
        "trial ratio",
        "per trial, r = b/s, b and s the standard and the streaming arm's arm-ready in seconds; each waterfall "
        "panel's title gives its trial's r, or why the trial is left out of the speed-up.",
    ),
    (
        "speed-up",
        "exp(mean(ln r)), the geometric mean of the trial ratios r of the n counted trials; its 95% interval is "
        "exp(mean(ln r) ± t(0.975, n−1)·√(sd(ln r)² + q)/√n), where q is the mean over the counted trials of "
        f"res²/6·(1/b² + 1/s²) with res = {_RES:g} s, the variance the clocks' whole-second rounding adds to ln r, "
        "so no interval is narrower than the clocks allow; no estimate and no interval below 2 trials.",
    ),
    (
        "trial",
        "one cold rollout of both arms of a comparison; the trial, not the pod, is the unit of evidence, since "
        "pods of one trial share nodes, a registry and a moment.",
    ),
    (
        "counted trial",
        "a trial in which both arms ran, every pod of both was cold and Ready, no streaming-arm pod was shown "
        "not to stream, and no flag left it out (flagged trials count only with --include-flagged); every "
        "other trial is left out of the speed-up and counted by reason (each code defined beside the exclusions).",
    ),
    (
        "verified",
        "streaming and cold are each true only when evidence shows it (true), false when evidence contradicts "
        "it, and unknown without evidence; a headline is verified when both are true.",
    ),
    (
        "configured",
        "true when the set-up asks for streaming: the streaming arm's pool has artifact streaming enabled as "
        "read back from Azure and the standard arm's not, only the streaming arm's nodes carry the AKS label "
        "kubernetes.azure.com/artifactstreaming-enabled=true, every streaming-arm image has a streaming artifact, "
        "and the streaming arm references its images by tag; false when one of these is contradicted, unknown "
        "without evidence. It is no proof that a pod streamed, and it is not part of verified nor of the CI gates.",
    ),
    (
        "cold pod",
        "a pod that pulled every image of its own (the kubelet's Pulling and Successfully pulled events), on a "
        "node that did not hold the image before the trial.",
    ),
    (
        "p50, p90, p95, p99",
        "percentiles with linear interpolation between closest ranks; p90 needs "
        f"{MIN_N_FOR['p90']} values, p95 {MIN_N_FOR['p95']} and p99 {MIN_N_FOR['p99']}, otherwise they are not given.",
    ),
    (
        "trials drawn",
        f"the waterfall draws the first {MAX_TRIALS_PLOTTED} trials of each comparison (the standard arm's in "
        "time order, then those only the streaming arm ran) and says how many it left out.",
    ),
    (
        "waterfall axis",
        "seconds from each pod's creation, one scale for every panel: symmetric-log (linear from 0 to "
        f"{SYMLOG_LINEAR:g} s, log beyond, ticked at 0 and 1, 2, 5 per decade) when the latest and the earliest "
        f"lane end of the picture differ by more than {SYMLOG_SPREAD:g}x, linear otherwise; the axis label says which.",
    ),
    (
        "quantile bands",
        f"beyond {MAX_PODS_AS_BARS} pods of an arm in one trial, the waterfall draws one lane per quantile "
        f"({_BANDS}) of each phase's end instead of one lane per pod.",
    ),
)

_IN_NO_TRIAL = "a pod with a deletionTimestamp: of an earlier rollout, on its way out; it takes part in no trial."
# Pod classes other than cold: such a pod is left out of the pod figures, a trial holding one out of the speed-up.
_POD_CLASSES = {
    classify.FAILED_POD: "a pod with a failed or backed-off pull, even if a retry succeeded.",
    classify.RESTARTED: "a pod with a container restarted (restartCount above 0): its Ready time may not be the first.",
    classify.FLAPPED: "a pod Ready after a failed readiness probe: its Ready time may not be the first.",
    classify.SKEWED: "a pod with a phase before its creation, or Ready before creation: the clocks disagree.",
    classify.WARM: "a pod that found its image already present on its node, and no pod of the trial on that "
    "node pulled it after this pod's creation: the image was there before the pod.",
    classify.MIXED: "a pod some of whose containers pulled their image while others found it already present.",
    classify.UNKNOWN: "a pod with a container without a surviving pull event (events expire, 1 h by default): "
    "coldness cannot be shown.",
}
CODES: dict[str, str] = {
    classify.TERMINATING: _IN_NO_TRIAL,
    **{code: f"{text} A trial holding such a pod is left out of the speed-up." for code, text in _POD_CLASSES.items()},
    ARM_MISSING: "one arm of the comparison has no pod in the trial.",
    NOT_STREAMED: "a streaming-arm pod of the trial that node evidence shows did not stream.",
    NOT_READY: "a pod of the trial never got Ready, so the trial has no arm-ready figure.",
    NO_APP_SIGNAL: "a pod of the trial logged no app-ready line (the app-ready speed-up only).",
    protocol.WARM_UP: "the first trial of a measure run, flagged on purpose: registry-side caches may still be "
    "warming.",
    protocol.CONTRADICTED: "measure's verdict on the trial was not the one the run expected.",
    protocol.FLAGGED_NO_REASON: "measure flagged the trial (flagged: true in its manifest) and recorded no "
    "reason: its verdict is the one the run expected, it carries no flag of its own and is not the first trial.",
    protocol.RESET_FAILED: "the trial's node cache reset failed, or right after it a node still held streamed "
    "image data (a backstore or a cached block file).",
    "node_image_mismatch": "the two arms ran on different node image versions.",
    INCOMPLETE: "a trial folder of a results folder without its manifest, pods or events, or with an unreadable "
    "manifest (measure stopped in it): none of its pods is read, and --include-flagged cannot put it back.",
    protocol.UNEQUAL_PODS: "the arms of the trial have different pod counts.",
    protocol.MISSING_PODS: "an arm has fewer pods than its Deployments asked for.",
    protocol.START_SKEW: f"the arms' first pods were created more than {protocol.START_SKEW_SECONDS:g} s apart.",
    protocol.OFF_POOL: "a pod ran on a node outside the pool it asked for.",
    protocol.PULL_ALWAYS: "a container has imagePullPolicy Always: a pull proves nothing about a cold node.",
    protocol.DRIFT: "the comparison's trial ratios trend over the trials (slope p < 0.05): trials are not "
    "exchangeable, and the interval undercovers.",
}

# measure's verdict on a trial (its manifest's `verdict`); a trial whose verdict the run did not expect is flagged.
VERDICTS: dict[str, str] = {
    "cold": "no reason found in a cold run (in a warm run: a cold pod).",
    "warm": "a warm or mixed pod, or evidence a node held an image, in a cold run (in a warm run: nothing found).",
    "failed": "a pod's pull failed.",
    "not-streaming": "evidence contradicts streaming or its configuration.",
    "unusable": "a restarted or skewed pod.",
    "timeout": "pods not Ready within measure's --timeout.",
    "unknown": "a reason none of the verdicts above names, such as a pod without a surviving pull event.",
    "reset-failed": "the trial's node cache reset failed.",
    "error": "the trial stopped on an error while it ran.",
}

VERDICT_PREFIX = "verdict "
UNDEFINED = "not a code this version of the report defines (written as given, e.g. by measure)."


def code_definitions(codes: Iterable[str]) -> list[tuple[str, str]]:
    """(code, meaning) for each code a page shows; ``verdict <v>`` for measure's verdicts."""
    out = []
    for code in codes:
        if code.startswith(VERDICT_PREFIX):
            out.append((code, VERDICTS.get(code.removeprefix(VERDICT_PREFIX), UNDEFINED)))
        else:
            out.append((code, CODES.get(code, UNDEFINED)))
    return out
