"""Human outputs of a report: rich tables, CSV and a matplotlib PNG."""

from __future__ import annotations

import csv
from collections import defaultdict

from rich.console import Console
from rich.table import Table

from timing.analysis.stats import STAT_KEYS
from timing.rendering.reference import reference_rows


def fmt_s(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def fmt_pair(stat: dict) -> str:
    if not stat or not stat.get("n"):
        return "-"
    return f"{fmt_s(stat['p50'])} / {fmt_s(stat['p90'])}"


def fmt_size(n: int | None) -> str:
    if n is None:
        return "?"
    if n >= 1e9:
        return f"{n / 1e9:.2f} GB"
    return f"{n / 1e6:.0f} MB"


def fmt_speedup(v: float | None, ci=None) -> str:
    if v is None:
        return "-"
    text = f"{v:.1f}x"
    if ci and ci[0] is not None and ci[1] is not None:
        text += f" [{ci[0]:.1f}-{ci[1]:.1f}]"
    return text


def short_image(ref: str) -> str:
    """``myacr.azurecr.io/azure-vote-front:v1`` -> ``azure-vote-front:v1`` (registry dropped for width)."""
    first, _, rest = ref.partition("/")
    return rest if rest and ("." in first or ":" in first or first == "localhost") else ref


def main_image(arm: dict) -> dict:
    """The image that dominates an arm's start-up: the largest known, else the first."""
    images = arm.get("images") or []
    if not images:
        return {"image": "?", "size_bytes": None, "layers": None}
    sized = [i for i in images if i.get("size_bytes")]
    if sized:
        return max(sized, key=lambda i: i["size_bytes"])
    return images[0]


def _side(arm: dict) -> str:
    streaming = arm.get("streaming")
    return "?" if streaming is None else ("streaming" if streaming else "standard")


def _comparison_row(t: Table, pair, component, b: dict, s: dict, sp: dict) -> None:
    img = main_image(b)
    t.add_row(
        pair,
        component,
        short_image(img["image"]),
        fmt_size(img.get("size_bytes") or main_image(s).get("size_bytes")),
        "?" if img.get("layers") is None else str(img["layers"]),
        f"{b['cold_pods']}/{b['pods']} | {s['cold_pods']}/{s['pods']}",
        fmt_pair(b["pull_seconds"]),
        fmt_pair(s["pull_seconds"]),
        fmt_pair(b["ready_seconds"]),
        fmt_pair(s["ready_seconds"]),
        fmt_speedup(sp["ready_p50_speedup"], sp["ready_p50_speedup_ci95"]),
        fmt_speedup(sp["pull_p50_speedup"]),
    )


def comparison_tables(report: dict) -> list[Table]:
    """One table per workload, shaped like the seeds' size / layers / standard / streaming table."""
    arms = report["arms"]
    by_workload: dict[str, list] = defaultdict(list)
    for c in report["comparisons"]:
        by_workload[c["workload"]].append(c)
    tables = []
    for workload in sorted(by_workload):
        t = Table(title=f"workload {workload}: standard vs streaming, cold pods (seconds, p50 / p90)")
        for col in ("pair", "component", "image", "size", "layers", "cold std | stream"):
            t.add_column(col, no_wrap=True)
        for col in (
            "pull std",
            "pull stream",
            "ready std",
            "ready stream",
            "ready p50 speed-up [95% CI]",
            "pull p50 speed-up",
        ):
            t.add_column(col, justify="right", no_wrap=True)
        captions = []
        for c in by_workload[workload]:
            b, s = arms[c["baseline_arm"]], arms[c["streaming_arm"]]
            captions.append(f"{c['pair'] or '-'}: {c['baseline_arm']} vs {c['streaming_arm']}")
            comps = c.get("components") or {}
            if len(comps) <= 1:
                _comparison_row(t, c["pair"] or "-", next(iter(comps), "") or "-", b, s, c)
                continue
            _comparison_row(t, c["pair"] or "-", "all pods", b, s, c)
            for comp, sp in comps.items():
                _comparison_row(t, "", comp, b["components"][comp], s["components"][comp], sp)
        t.caption = "; ".join(captions)
        tables.append(t)
    return tables


def arms_table(report: dict) -> Table:
    t = Table(title="arms (pull and ready statistics over cold pods only)")
    t.add_column("arm")
    t.add_column("workload")
    t.add_column("side")
    for col in (
        "pods",
        "cold",
        "warm",
        "failed",
        "no pull event",
        "not ready",
        "pull n",
        "pull p50 / p90",
        "ready n",
        "ready p50 / p90",
    ):
        t.add_column(col, justify="right")
    for name, a in report["arms"].items():
        t.add_row(
            name,
            a["workload"] or "-",
            _side(a),
            str(a["pods"]),
            str(a["cold_pods"]),
            str(a["warm_pods"]),
            str(a["failed_pods"]),
            str(a["unknown_pods"]),
            str(a.get("not_ready_pods", "-")),
            str(a["pull_seconds"]["n"]),
            fmt_pair(a["pull_seconds"]),
            str(a["ready_seconds"]["n"]),
            fmt_pair(a["ready_seconds"]),
        )
    return t


def notes(report: dict) -> list[str]:
    out = []
    arms = report["arms"].values()
    unknown = sum(a["unknown_pods"] for a in arms)
    warm = sum(a["warm_pods"] for a in arms)
    failed = sum(a["failed_pods"] for a in arms)
    not_ready = sum(a.get("not_ready_pods", 0) for a in arms)
    if unknown:
        out.append(
            f"{unknown} pod(s) have no pull event (events expire, 1 h by default): counted neither cold nor warm."
        )
    if warm:
        out.append(f"{warm} pod(s) found the image already on the node (warm): excluded from the cold statistics.")
    if failed:
        out.append(f"{failed} pod(s) had a failed or backed-off pull: excluded from the cold statistics.")
    if not_ready:
        out.append(f"{not_ready} pod(s) are not Ready (still pending or failing): no ready time.")
    for name, a in report["arms"].items():
        pull, wait = a["pull_seconds"]["p50"], (a.get("pull_including_waiting_seconds") or {}).get("p50")
        if pull is not None and wait is not None and wait > 2 * pull + 1:
            out.append(
                f"{name}: pulls queued behind each other (serialized pulls): pull p50 {pull:.1f} s, "
                f"{wait:.1f} s including waiting; ready time is the fairer comparison."
            )
    for t in report.get("trials") or ():
        if t["flagged"]:
            state = "included" if t["included"] else "excluded"
            out.append(f"trial {t['id']} (#{t['index']}) flagged {t['verdict']} ({'; '.join(t['reasons'])}), {state}.")
    if report["comparisons"]:
        c = report["comparisons"][0]["bootstrap"]
        out.append(
            f"speed-up = standard p50 / streaming p50; CI: percentile bootstrap of the ratio of medians, "
            f"pods resampled within each arm, {c['resamples']} resamples, seed {c['seed']}."
        )
    return out


def reference_table(report: dict | None = None) -> Table:
    t = Table(title="published reference figures (seeds) beside measured p50")
    for col in ("source", "scenario", "size", "layers", "metric"):
        t.add_column(col)
    for col in ("standard s", "streaming s", "speed-up"):
        t.add_column(col, justify="right")
    for r in reference_rows():
        t.add_row(
            r["source"],
            r["scenario"],
            fmt_size(r["image_size_bytes"]) if r["image_size_bytes"] else "~5 GiB",
            "?" if r["layers"] is None else str(r["layers"]),
            "pull" if r["metric"] == "pull" else "time to Running",
            fmt_s(r["standard_seconds"]),
            fmt_s(r["streaming_seconds"]),
            f"{r['speedup']:.1f}x",
        )
    if report:
        arms = report["arms"]
        for c in report["comparisons"]:
            b, s = arms[c["baseline_arm"]], arms[c["streaming_arm"]]
            img = main_image(b)
            label = f"{c['workload']}/{c['pair'] or '-'} ({c['baseline_arm']} vs {c['streaming_arm']})"
            for metric, key, sp in (
                ("pull", "pull_seconds", "pull_p50_speedup"),
                ("ready", "ready_seconds", "ready_p50_speedup"),
            ):
                t.add_row(
                    "measured",
                    label,
                    fmt_size(img.get("size_bytes")),
                    "?" if img.get("layers") is None else str(img["layers"]),
                    "pull" if metric == "pull" else "time to Ready",
                    fmt_s(b[key]["p50"]),
                    fmt_s(s[key]["p50"]),
                    fmt_speedup(c[sp]),
                )
    return t


def print_report(report: dict, console: Console, reference: bool = False) -> None:
    if not report["arms"]:
        console.print("No pods carry the streaming-ab/arm label in this input.")
    for t in comparison_tables(report):
        console.print(t)
    if report["arms"]:
        console.print(arms_table(report))
    for line in notes(report):
        console.print(f"- {line}", highlight=False)
    if reference:
        console.print(reference_table(report))


CSV_COLUMNS = (
    ["arm", "workload", "pair", "streaming", "image", "image_size_bytes", "layers"]
    + ["pods", "cold_pods", "warm_pods", "failed_pods", "unknown_pods", "not_ready_pods"]
    + [f"pull_{k}" for k in STAT_KEYS]
    + [f"ready_{k}" for k in STAT_KEYS]
    + [
        "baseline_arm",
        "ready_p50_speedup",
        "ready_p50_speedup_ci95_lo",
        "ready_p50_speedup_ci95_hi",
        "pull_p50_speedup",
    ]
)


def write_csv(report: dict, path: str) -> None:
    """One row per arm; streaming arms also carry their speed-up against each baseline."""
    speedups = defaultdict(list)
    for c in report["comparisons"]:
        speedups[c["streaming_arm"]].append(c)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for name, a in report["arms"].items():
            img = main_image(a)
            base = [
                name,
                a["workload"],
                a["pair"],
                a["streaming"],
                img["image"],
                img.get("size_bytes"),
                img.get("layers"),
            ]
            base += [
                a["pods"],
                a["cold_pods"],
                a["warm_pods"],
                a["failed_pods"],
                a["unknown_pods"],
                a.get("not_ready_pods"),
            ]
            base += [a["pull_seconds"][k] for k in STAT_KEYS] + [a["ready_seconds"][k] for k in STAT_KEYS]
            comps = speedups.get(name) or [None]
            for c in comps:
                if c is None:
                    w.writerow(base + [None] * 5)
                else:
                    lo, hi = c["ready_p50_speedup_ci95"]
                    w.writerow(base + [c["baseline_arm"], c["ready_p50_speedup"], lo, hi, c["pull_p50_speedup"]])


def write_plot(report: dict, path: str) -> None:
    """Per workload, the cold-pod pull and ready distributions of every arm, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    by_workload: dict[str, list] = defaultdict(list)
    for name, a in report["arms"].items():
        by_workload[a["workload"] or "(no workload)"].append(name)
    samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"pull": [], "ready": []})
    for p in report["pods"]:
        if p["class"] != "cold":
            continue
        if p["pull_seconds"] is not None:
            samples[p["arm"]]["pull"].append(p["pull_seconds"])
        if p["ready_seconds"] is not None:
            samples[p["arm"]]["ready"].append(p["ready_seconds"])
    workloads = sorted(by_workload) or ["(no data)"]
    width = max(8.0, 2.2 * max((len(v) for v in by_workload.values()), default=2) * 2)
    fig, axes = plt.subplots(len(workloads), 2, figsize=(width, 3.8 * len(workloads)), squeeze=False)
    colors = {True: "#e07b00", False: "#2b6cb0", None: "#777777"}
    rng = np.random.default_rng(0)  # jitter only; does not touch any statistic
    for row, workload in enumerate(workloads):
        arm_names = sorted(
            by_workload.get(workload, []),
            key=lambda n: (report["arms"][n]["pair"] or "", report["arms"][n]["streaming"] is True, n),
        )
        for col, (kind, label) in enumerate((("pull", "image pull time (s)"), ("ready", "creation to Ready (s)"))):
            ax = axes[row][col]
            data = [samples[n][kind] for n in arm_names]
            positions = list(range(1, len(arm_names) + 1))
            for pos, name, values in zip(positions, arm_names, data, strict=False):
                color = colors[report["arms"][name]["streaming"]]
                if values:
                    ax.boxplot(
                        [values],
                        positions=[pos],
                        widths=0.5,
                        showfliers=False,
                        medianprops={"color": "black"},
                        boxprops={"color": color},
                        whiskerprops={"color": color},
                        capprops={"color": color},
                    )
                    xs = pos + rng.uniform(-0.12, 0.12, size=len(values))
                    ax.scatter(xs, values, s=18, color=color, alpha=0.8, zorder=3)
                else:
                    ax.text(
                        pos,
                        0.5,
                        "no cold\nsamples",
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="#999999",
                        transform=ax.get_xaxis_transform(),
                    )
            ax.set_xticks(positions)
            ax.set_xticklabels(
                [
                    f"{n}\npair {report['arms'][n]['pair'] or '-'}, n={len(d)}"
                    for n, d in zip(arm_names, data, strict=False)
                ],
                fontsize=8,
            )
            if row == 0 and col == 1:
                from matplotlib.patches import Patch

                ax.legend(
                    handles=[
                        Patch(color=colors[False], label="standard pull"),
                        Patch(color=colors[True], label="artifact streaming"),
                    ],
                    loc="upper right",
                    fontsize=8,
                )
            ax.set_xlim(0.4, len(arm_names) + 0.6)
            ax.set_ylabel(label)
            ax.set_ylim(bottom=0)
            ax.grid(axis="y", alpha=0.3)
            ax.set_title(f"{workload}: {'image pull' if kind == 'pull' else 'time to Ready'} (cold pods)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
