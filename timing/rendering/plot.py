"""Per-pod waterfall: each pod's phases as bars, both arms of a pair side by side per trial."""

from __future__ import annotations

from timing.rendering.table import fmt_speedup

MAX_TRIALS_PLOTTED = 6
# (label, start key, end key, colour): seconds from pod creation, as in the report's pods[].
PHASES = (
    ("scheduling", None, "scheduled_seconds", "#bbbbbb"),
    ("waiting", "scheduled_seconds", "pull_start_seconds", "#e2e2e2"),
    ("pull", "pull_start_seconds", "pull_end_seconds", "#2b6cb0"),
    ("start", "pull_end_seconds", "started_seconds", "#9ab7d8"),
    ("to Ready", "started_seconds", "ready_seconds", "#38a169"),
    ("app start-up read", "ready_seconds", "app_ready_seconds", "#e07b00"),
)


def _pod_phases(pod: dict) -> dict[str, float | None]:
    pulls = [c for c in pod["containers"] if c["source"] == "pulled"]
    starts = [c["pull_start_seconds"] for c in pulls if c["pull_start_seconds"] is not None]
    ends = [c["pull_end_seconds"] for c in pulls if c["pull_end_seconds"] is not None]
    out = {k: pod.get(k) for k in ("scheduled_seconds", "started_seconds", "ready_seconds", "app_ready_seconds")}
    out["pull_start_seconds"] = min(starts) if starts else None
    out["pull_end_seconds"] = max(ends) if ends else None
    return out


def _bars(pod: dict) -> list[tuple[float, float, str]]:
    """(left, width, colour) per known phase; a missing point is skipped, its phase merged into the next."""
    ph = _pod_phases(pod)
    bars, last = [], 0.0
    for _label, _start, end, colour in PHASES:
        t = ph.get(end)
        if t is None or t < last:
            continue
        bars.append((last, t - last, colour))
        last = t
    return bars


def write_plot(report: dict, path: str) -> int:
    """Write the waterfall to `path` (format from its extension); returns the number of trial panels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    rows = []  # (comparison, trial, baseline pods, streaming pods)
    for c in report["comparisons"]:
        trials = [t["trial"] for t in report["arms"][c["baseline_arm"]]["trials"]][:MAX_TRIALS_PLOTTED]
        for trial in trials:
            b = [p for p in report["pods"] if p["arm"] == c["baseline_arm"] and p["trial"] == trial]
            s = [p for p in report["pods"] if p["arm"] == c["streaming_arm"] and p["trial"] == trial]
            rows.append((c, trial, b, s))
    n_rows = max(1, len(rows))
    height = sum(max(len(b), len(s), 1) for _c, _t, b, s in rows) * 0.28 + 1.6 * n_rows
    # One time axis per row: the two arms of a trial are read against the same scale.
    fig, axes = plt.subplots(n_rows, 2, figsize=(12, max(3.0, height)), squeeze=False, sharex="row")
    if not rows:
        axes[0][0].text(0.5, 0.5, "no comparison in this report", ha="center", va="center")
    for row, (c, trial, b, s) in enumerate(rows):
        ends = [p.get("app_ready_seconds") or p.get("ready_seconds") for p in b + s]
        known = [e for e in ends if e]
        spread = (max(known) / min(known)) if known and min(known) > 0 else 1.0
        for col, (arm, pods) in enumerate(((c["baseline_arm"], b), (c["streaming_arm"], s))):
            ax = axes[row][col]
            for y, pod in enumerate(sorted(pods, key=lambda p: p["name"])):
                for left, width, colour in _bars(pod):
                    ax.barh(y, width, left=left, color=colour, height=0.7)
                if pod["class"] != "cold":
                    ax.text(0, y, f" {pod['class']}", va="center", fontsize=7, color="#c53030")
            ax.set_yticks(
                range(len(pods)), [p["name"][-14:] for p in sorted(pods, key=lambda p: p["name"])], fontsize=6
            )
            ax.invert_yaxis()
            if spread > 10:
                ax.set_xscale("symlog", linthresh=1.0)  # arms more than 10x apart: both stay readable
            ax.set_xlabel("seconds from pod creation")
            side = "streaming" if col else "standard"
            ax.set_title(f"{arm} ({side}), trial {trial if trial is not None else '-'}", fontsize=9)
            ax.grid(axis="x", alpha=0.3)
        axes[row][0].annotate(
            f"{c['workload']}/{c['pair'] or '-'}: speed-up {fmt_speedup(c['speedup'])}",
            xy=(0, 1.18),
            xycoords="axes fraction",
            fontsize=10,
            fontweight="bold",
        )
    fig.legend(
        handles=[Patch(color=colour, label=label) for label, _s, _e, colour in PHASES],
        loc="lower center",
        ncol=len(PHASES),
        fontsize=8,
    )
    headline = "; ".join(
        f"{c['workload']}/{c['pair'] or '-'} {fmt_speedup(c['speedup'])}" for c in report["comparisons"]
    )
    fig.suptitle(f"arm-ready speed-up (per trial, 95% CI): {headline or '-'}", fontsize=11)
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return len(rows)
