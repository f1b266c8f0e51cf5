"""The definitions a hand-on report carries (HTML and Markdown), worded as docs/timing.md words them."""

from __future__ import annotations

from timing.analysis.stats import MIN_N_FOR
from timing.rendering.waterfall import BAND_QUANTILES, MAX_PODS_AS_BARS

_BANDS = ", ".join({0: "min", 50: "median", 100: "max"}.get(q, f"p{q}") for q in BAND_QUANTILES)

DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "arm-ready",
        "per trial and arm: the last pod of the arm Ready minus the first pod of the arm created, over every "
        "replica and every component; no figure when a pod is not Ready.",
    ),
    (
        "speed-up",
        "geometric mean over the counted trials of (standard arm-ready / streaming arm-ready); the 95% interval "
        "is exp(mean(ln r) ± t(0.975, n−1)·sd(ln r)/√n) over the per-trial ratios r, none below 2 trials.",
    ),
    (
        "trial",
        "one cold rollout of both arms of a comparison; the trial, not the pod, is the unit of evidence, since "
        "pods of one trial share nodes, a registry and a moment.",
    ),
    (
        "counted trial",
        "a trial in which both arms ran and every pod of both was cold and Ready; every other trial is left "
        "out of the speed-up and counted by reason.",
    ),
    (
        "verified",
        "streaming and cold are each true only when evidence shows it (true), false when evidence contradicts "
        "it, and unknown without evidence; a headline is verified when both are true.",
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
        "quantile bands",
        f"beyond {MAX_PODS_AS_BARS} pods of an arm in one trial, the waterfall draws one lane per quantile "
        f"({_BANDS}) of each phase's end instead of one lane per pod.",
    ),
)
