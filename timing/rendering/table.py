"""Human outputs of a report: rich tables and CSV (pictures are in timing.rendering.plot)."""

from __future__ import annotations

import csv
import os
import sys
from collections import defaultdict
from statistics import median
from typing import TextIO

from rich import box
from rich.console import Console
from rich.table import Table

from timing.analysis.stats import STAT_KEYS
from timing.rendering.forest import speedup_words
from timing.rendering.headline import flagged_trial_line, pods_left_out_line
from timing.rendering.numbers import count_text, ratio_text
from timing.rendering.reference import measured_rows, reference_rows
from timing.rendering.waterfall import NO_PAIR, comparison_title


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


def fmt_ratio(v: float | None) -> str:
    return "-" if v is None else f"{ratio_text(v)}x"


def fmt_verified(v: dict | None) -> str:
    """``streaming ok, cold ?``: each check true (ok), contradicted (NO) or without evidence (?)."""
    if not v:
        return "unverified"
    parts = []
    for key in ("streaming", "cold"):
        state = v.get(key)
        parts.append(f"{key} {'ok' if state else ('NO' if state is False else '?')}")
    return ", ".join(parts)


def new_table(title: str) -> Table:
    # Narrow enough for an 80-column terminal: no vertical rules, one space of padding.
    return Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False)


PIPED_WIDTH = 120


class PipeConsole(Console):
    """rich exits with status 1 on a closed pipe; here the caller decides (`| head` is no error)."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


def console_for(stream: TextIO = sys.stdout) -> Console:
    """The terminal's width; when piped, $COLUMNS if set, else a width that never cuts a value."""
    if stream.isatty() or os.environ.get("COLUMNS"):
        return PipeConsole(file=stream)
    return PipeConsole(file=stream, width=PIPED_WIDTH)


def _text_column(t: Table, header: str, min_width: int | None = None) -> None:
    t.add_column(header, overflow="fold", min_width=min_width)  # names wrap; they never push a number out


def _number_column(t: Table, header: str) -> None:
    t.add_column(header, justify="right", no_wrap=True, overflow="fold")


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


def _median_of(values) -> float | None:
    vals = [v for v in values if v is not None]
    return median(vals) if vals else None


NAME_MIN_WIDTH = 10  # a pair or image name folds onto lines of at least this many characters
IMAGE_MIN_TERMINAL = 110  # narrower: the image and size columns are left out (the caption says so), never squeezed


def comparison_tables(report: dict, width: int | None = None) -> list[Table]:
    """One table per workload: the per-trial arm-ready speed-up first, pod figures beside it."""
    arms = report["arms"]
    by_workload: dict[str, list] = defaultdict(list)
    for c in report["comparisons"]:
        by_workload[c["workload"]].append(c)
    with_image = width is None or width >= IMAGE_MIN_TERMINAL
    tables = []
    for workload in sorted(by_workload):
        t = new_table(f"{workload}: seconds until every pod of the arm is Ready (median of trials)")
        _text_column(t, "pair", NAME_MIN_WIDTH)
        if with_image:
            _text_column(t, "image", NAME_MIN_WIDTH)
        for header in (("size",) if with_image else ()) + ("standard", "stream", "pods", "/node", "speed-up [95% CI]"):
            _number_column(t, header)
        _text_column(t, "verified", len("verified"))
        t.caption = "pods: replicas standard/stream, /node: pods per node; verified: streaming/cold, each ok, NO or ? (no evidence)"
        if not with_image:
            t.caption += f"; image and size left out below {IMAGE_MIN_TERMINAL} columns (--csv and --json hold them)"
        for c in by_workload[workload]:
            b, s = arms[c["baseline_arm"]], arms[c["streaming_arm"]]
            per_trial = c["speedup"]["per_trial"]
            img = main_image(b)
            t.add_row(
                c["pair"] or NO_PAIR,
                *((short_image(img["image"]),) if with_image else ()),
                *((fmt_size(img.get("size_bytes") or main_image(s).get("size_bytes")),) if with_image else ()),
                fmt_s(_median_of(p["baseline"] for p in per_trial)),
                fmt_s(_median_of(p["streaming"] for p in per_trial)),
                _fmt_sides(c.get("replicas")),
                _fmt_sides(c.get("pods_per_node")),
                speedup_words(c["speedup"]),
                fmt_verified_short(c.get("verified")),
            )
        tables.append(t)
    return tables


def _fmt_sides(sides: dict | None) -> str:
    """``10/1``: a count of the standard arm, then of the streaming arm ("?" when unknown)."""
    if not sides:
        return "-"
    return "/".join("?" if sides.get(k) is None else count_text(sides[k]) for k in ("baseline", "streaming"))


def fmt_verified_short(v: dict | None) -> str:
    """``ok/?`` (streaming/cold) for the table; the notes under it spell out what is missing."""
    if not v:
        return "-"
    marks = {True: "ok", False: "NO", None: "?"}
    return f"{marks[v.get('streaming')]}/{marks[v.get('cold')]}"


def arms_table(report: dict) -> Table:
    t = new_table("arms: cold pods only, s from pod creation (p50 / p90)")
    with_app = any((a.get("app_ready_seconds") or {}).get("n") for a in report["arms"].values())
    _text_column(t, "arm")
    for col in ("pods", "cold", "pull s", "Ready s", *(("app ready s",) if with_app else ()), "fail %"):
        _number_column(t, col)
    for name, a in report["arms"].items():
        rate = a.get("failure_rate")
        several = len(a.get("components") or {}) > 1
        t.add_row(
            name,
            str(a["pods"]),
            str(a["cold_pods"]),
            # Several components: their figures are in their own rows, never mixed in the arm's.
            "-" if several else fmt_pair(a["pull_seconds"]),
            "-" if several else fmt_pair(a["ready_seconds"]),
            *((("-" if several else fmt_pair(a.get("app_ready_seconds") or {})),) if with_app else ()),
            "-" if rate is None else f"{100 * rate:.0f}",
        )
        components = a.get("components") or {}
        if len(components) > 1:
            # A row never averages two components (a web front and its redis): each gets its own.
            for comp, ca in components.items():
                rate = ca.get("failure_rate")
                t.add_row(
                    f"  {comp or '-'}",
                    str(ca["pods"]),
                    str(ca["cold_pods"]),
                    fmt_pair(ca["pull_seconds"]),
                    fmt_pair(ca["ready_seconds"]),
                    *((fmt_pair(ca.get("app_ready_seconds") or {}),) if with_app else ()),
                    "-" if rate is None else f"{100 * rate:.0f}",
                )
    return t


def notes(report: dict) -> list[str]:
    out = []
    unknown = sum(a["unknown_pods"] for a in report["arms"].values())
    if not (report.get("inputs") or {}).get("events_given", True):
        out.append(
            "no events were given (--events): pull times and pod classes come from the kubelet's events, "
            "so every pod is unknown; dump them with kubectl get events -A -o json."
        )
    elif unknown:
        out.append(f"{unknown} pod(s) have no surviving pull event (events expire, 1 h by default): unknown.")
    for name, a in report["arms"].items():
        if a["excluded"]:
            out.append(pods_left_out_line(name, a))
        fetched = a.get("bytes_fetched") or {}
        if fetched.get("bytes") is not None:
            of = f" of {fmt_size(fetched['image_size_bytes'])}" if fetched.get("image_size_bytes") else ""
            share = f", {fetched['fraction'] * 100:.0f} %" if fetched.get("fraction") is not None else ""
            out.append(
                f"{name}: read {fmt_size(fetched['bytes'])}{of}{share} from the registry "
                f"(median of {fetched['readings']} node reading(s), overlaybd exporter)."
            )
        pull, wait = a["pull_seconds"]["p50"], (a.get("pull_including_waiting_seconds") or {}).get("p50")
        if pull is not None and wait is not None and wait > 2 * pull + 1:
            out.append(
                f"{name}: pulls queued behind each other (serialized pulls): pull p50 {pull:.1f} s, "
                f"{wait:.1f} s including waiting."
            )
    for c in report["comparisons"]:
        label = comparison_title(c)
        sp = c["speedup"]
        if sp["excluded_trials"]:
            counts = ", ".join(f"{k} {v}" for k, v in sp["excluded_trials"].items())
            out.append(f"{label}: trials left out of the speed-up: {counts}.")
        for w in c.get("warnings") or ():
            out.append(f"{label}: {w}.")
        out.extend(_estimand_notes(label, c))
        v = c.get("verified") or {}
        if v.get("streaming") is not True or v.get("cold") is not True:
            against = list(v.get("contradicted") or ())
            missing = len(v.get("reasons") or ()) - len(against)
            text = f"{label}: UNVERIFIED ({fmt_verified(v)})"
            if against:
                text += ": " + "; ".join(against)
            if missing:
                text += f"{';' if against else ':'} {missing} check(s) had no evidence (--json: verified.reasons)"
            out.append(text + ".")
        app = c.get("app_speedup")
        if app and app.get("estimate") is not None:
            out.append(f"{label}: until every pod's app is ready (start-up read done): {speedup_words(app)}.")
    out += [flagged_trial_line(t) for t in report.get("trials") or () if t["flagged"]]
    if report["comparisons"]:
        out.append(
            "speed-up = geometric mean over trials of (standard arm-ready / streaming arm-ready); "
            "95% CI from the t distribution on the log ratios, widened for the 1 s clocks (docs/timing.md); "
            "arm-ready = last pod Ready - first pod created."
        )
    return out


def _estimand_notes(label: str, c: dict) -> list[str]:
    """The second estimand, the trials a ±10 % interval needs, and which trials carried flags."""
    out = []
    median_pod = c.get("speedup_median_pod") or {}
    if median_pod.get("estimate") is not None:
        out.append(f"{label}: median pod Ready (per trial, standard/streaming): {speedup_words(median_pod)}.")
    sp = c["speedup"]
    if sp.get("trials_needed") is not None:
        lo, hi = sp.get("trials_needed_range") or (None, None)
        span = f" (range {lo}-{hi if hi is not None else 'more than 10000'})" if lo is not None else ""
        out.append(f"{label}: trials needed for a 95% interval within about ±10%: {sp['trials_needed']}{span}.")
    flagged = c.get("trial_flags") or {}
    if flagged:
        listed = "; ".join(f"{t}: {', '.join(f)}" for t, f in sorted(flagged.items()))
        out.append(f"{label}: flagged trials ({listed}).")
    return out


METRIC_WORDS = {
    "pull": "single-pod pull incl. waiting (s)",
    "running": "first created to last container started",
}


def reference_table(report: dict | None = None) -> Table:
    """Seed figures, each beside a measured figure of the very same metric (labelled), never another."""
    t = new_table("published figures (seeds) and measured figures of the same metric")
    for col in ("source", "scenario", "metric"):
        _text_column(t, col)
    for col in ("standard s", "stream s", "ratio"):
        _number_column(t, col)
    measured = measured_rows(report) if report else []
    for metric in ("pull", "running"):
        for r in reference_rows():
            if r["metric"] != metric:
                continue
            t.add_row(
                r["source"],
                r["scenario"],
                METRIC_WORDS[metric],
                fmt_s(r["standard_seconds"]),
                fmt_s(r["streaming_seconds"]),
                fmt_ratio(r["speedup"]),
            )
        for row in measured:
            if row["metric"] != metric:
                continue
            b, s = row["standard"], row["streaming"]
            scenario = row["label"] + (f": {row['why']}" if row.get("why") else "")
            t.add_row("measured", scenario, METRIC_WORDS[metric], fmt_s(b), fmt_s(s), fmt_ratio(ratio_or_none(b, s)))
    return t


def ratio_or_none(b: float | None, s: float | None) -> float | None:
    return None if b is None or s is None or s <= 0 else b / s


def print_report(report: dict, console: Console, reference: bool = False) -> None:
    if not report["arms"]:
        console.print("No pods carry the streaming-ab/arm label in this input.")
    for t in comparison_tables(report, console.width):
        console.print(t)
    if report["arms"]:
        console.print(arms_table(report))
    for line in notes(report):
        console.print(f"- {line}", highlight=False)
    if reference:
        console.print(reference_table(report))


CSV_COLUMNS = (
    ["arm", "workload", "pair", "streaming", "pool", "image", "image_size_bytes", "layers"]
    + ["pods", "cold_pods", "warm_pods", "mixed_pods", "failed_pods", "restarted_pods", "skewed_pods"]
    + ["unknown_pods", "not_ready_pods", "failure_rate"]
    + [f"pull_{k}" for k in STAT_KEYS]
    + [f"ready_{k}" for k in STAT_KEYS]
    + ["baseline_arm", "speedup_estimate", "speedup_ci95_lo", "speedup_ci95_hi", "speedup_n_trials"]
    + ["verified_streaming", "verified_cold"]
    # Per-trial rows (row = "trial") after the per-arm rows (row = "arm"): the arm-ready of each trial,
    # beside the headline it feeds; trial_counted says whether the speed-up used it, and if not, why.
    + ["row", "trial", "arm_ready_seconds", "trial_ratio", "trial_counted", "trial_left_out_reasons"]
)
_ARM_COLUMNS = CSV_COLUMNS.index("baseline_arm")


def csv_value(value):
    """Seconds to the millisecond, booleans as true/false, missing as empty: what spreadsheets read."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = f"{value:.3f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    return value


def _headline_cells(c: dict | None) -> list:
    if c is None:
        return [None] * 7
    sp, v = c["speedup"], c.get("verified") or {}
    lo, hi = sp.get("ci95") or (None, None)
    return [c["baseline_arm"], sp.get("estimate"), lo, hi, sp.get("n_trials"), v.get("streaming"), v.get("cold")]


def _trial_csv_rows(report: dict, speedups: dict) -> list[list]:
    """One row per arm and trial (per comparison the arm is in), its arm-ready beside the headline it feeds."""
    rows = []
    for name, a in report["arms"].items():
        lead = [name, a["workload"], a["pair"], a["streaming"], a.get("pool")]
        lead += [None] * (_ARM_COLUMNS - len(lead))
        for c in speedups.get(name) or [None]:
            used = {t["trial"]: t for t in (c["speedup"]["per_trial"] if c else ())}
            left = {
                t["trial"]: t.get("reasons") or () for t in (c["speedup"].get("left_out_trials") or () if c else ())
            }
            for t in a.get("trials") or ():
                entry = used.get(t["trial"]) or {}
                counted = (bool(entry) and entry.get("counted", True) is not False) if c else None
                reasons = ";".join(str(r) for r in left.get(t["trial"], ())) or None
                tail = ["trial", t["trial"], t.get("arm_ready_seconds"), entry.get("ratio"), counted, reasons]
                rows.append(lead + _headline_cells(c) + tail)
    return rows


def write_csv(report: dict, path: str) -> int:
    """One row per arm (and per baseline of a streaming arm); returns the number of rows."""
    speedups, headlines = defaultdict(list), defaultdict(list)
    for c in report["comparisons"]:
        headlines[c["streaming_arm"]].append(c)
        for arm in (c["streaming_arm"], c["baseline_arm"]):  # both arms' trials are counted or left out
            speedups[arm].append(c)
    rows: list[list] = []
    for name, a in report["arms"].items():
        img = main_image(a)
        base = [name, a["workload"], a["pair"], a["streaming"], a.get("pool"), img["image"]]
        base += [img.get("size_bytes"), img.get("layers"), a["pods"]]
        base += [a[f"{k}_pods"] for k in ("cold", "warm", "mixed", "failed", "restarted", "skewed", "unknown")]
        base += [a["not_ready_pods"], a["failure_rate"]]
        base += [a["pull_seconds"][k] for k in STAT_KEYS] + [a["ready_seconds"][k] for k in STAT_KEYS]
        for c in headlines.get(name) or [None]:
            rows.append(base + _headline_cells(c) + ["arm", None, None, None, None, None])
    rows += _trial_csv_rows(report, speedups)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        w.writerows([csv_value(v) for v in row] for row in rows)
    return len(rows)
