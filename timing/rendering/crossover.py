"""The crossover section for people: lines under the tables, and the picture (speed-up with its 95 %
interval against the factor, log y, the 1x line, the physical-limit line and the crossing)."""

from __future__ import annotations

from timing.errors import UsageError
from timing.rendering.forest import speedup_words


def crossover_lines(section: dict) -> list[str]:
    """One line per point and the crossing, e.g. `readPercent 25: 0.8x [0.7-0.9] n=3 (transfer limit 2.1x)`."""
    if section["factor"] is None:
        return [f"crossover: {section['crossing']['text']}"]
    lines = []
    for p in section["points"]:
        limit = p["limit"]["speedup"] if p["limit"] else None
        beside = f" (transfer limit {limit:.1f}x)" if limit is not None else ""
        value = f"{p['value']:g}" if isinstance(p["value"], float) else str(p["value"])
        lines.append(f"{section['factor']} {value}: {speedup_words(p)}{beside}")
    lines.append(f"crossover against {section['factor']}: {section['crossing']['text']}")
    return lines


def _x_scale(values: list[float]) -> tuple[str, dict]:
    """Log when the values span two decades; symlog when they also include 0 (a 0 % read)."""
    positive = [v for v in values if v > 0]
    if len(positive) < 2 or max(positive) / min(positive) < 100:
        return "linear", {}
    if len(positive) == len(values):
        return "log", {}
    return "symlog", {"linthresh": min(positive)}


def _label_axes(ax, xs: list[float], labels: list[str], numeric: bool) -> None:
    """Ticks at the measured values; y ticks at powers of two, labelled as speed-ups (`0.5x`, `2x`)."""
    import math

    from matplotlib.ticker import NullFormatter

    if numeric:
        scale, options = _x_scale(xs)
        ax.set_xscale(scale, **options)
        if scale == "symlog":
            ax.set_xlim(-0.3 * options["linthresh"], max(xs) * 1.5)
        elif scale == "log":
            ax.set_xlim(min(xs) / 1.5, max(xs) * 1.5)
    ax.set_xticks(xs, labels)
    ax.xaxis.set_minor_formatter(NullFormatter())
    low, high = ax.get_ylim()
    ticks = [2.0**k for k in range(math.floor(math.log2(low)), math.ceil(math.log2(high)) + 1)]
    ax.set_yticks(ticks, [f"{t:g}x" for t in ticks])
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(low, high)


def write_crossover_plot(report: dict, path: str) -> int:
    """Write the picture to `path` (format from its extension); returns the number of measured points."""
    section = report.get("crossover")
    if not section or not section.get("points"):
        raise UsageError(
            f"--crossover-plot {path}: no comparison carries a single factor (labels streaming-ab/factor and "
            "streaming-ab/factor-value), so there is no crossover to draw"
        )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = section["points"]
    numeric = all(isinstance(p["value"], (int, float)) for p in points)
    xs = [float(p["value"]) if numeric else float(i) for i, p in enumerate(points)]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    measured = [(x, p) for x, p in zip(xs, points, strict=True) if p["estimate"] is not None]
    for x, p in measured:
        low, high = p["ci95"] if p["ci95"] else (p["estimate"], p["estimate"])
        ax.errorbar(
            [x],
            [p["estimate"]],
            yerr=[[p["estimate"] - low], [high - p["estimate"]]],
            fmt="o",
            color="#2b6cb0",
            capsize=4,
        )
    # Categories (a fill) are not joined: a line between them would suggest values in between.
    ax.plot(
        [x for x, _ in measured],
        [p["estimate"] for _, p in measured],
        "-" if numeric else "none",
        marker="o",
        color="#2b6cb0",
        label="measured (95 % CI)",
    )
    limits = [
        (x, p["limit"]["speedup"]) for x, p in zip(xs, points, strict=True) if p["limit"] and p["limit"]["speedup"]
    ]
    if limits:
        ax.plot(
            *zip(*limits, strict=True),
            "--",
            color="#e07b00",
            label="transfer-time limit (published throughput, a model)",
        )
    ax.axhline(1.0, color="#555555", linewidth=1, label="1x (no gain)")
    value = section["crossing"]["value"]
    if value is not None:
        ax.axvline(value, color="#38a169", linestyle=":", label=f"crosses 1x at {value:.3g}")
    ax.set_yscale("log")
    _label_axes(ax, xs, [str(p["value"]) if not numeric else f"{float(p['value']):g}" for p in points], numeric)
    ax.set_xlabel(section["factor"])
    ax.set_ylabel("speed-up: standard / streaming arm ready (log)")
    ax.set_title(f"Streaming speed-up against {section['factor']}")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return len(measured)
