"""How a count, a speed-up and its interval read in every output (terminal, HTML, Markdown, plot): one rule each."""

from __future__ import annotations

import math


def count_text(value: float) -> str:
    """Replicas and pods per node: at most two decimals, trailing zeros dropped (``7.14``, ``2.5``, ``10``)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def ratio_text(value: float) -> str:
    """A speed-up or a ratio of speed-ups, in every output: two significant digits below 10x, one decimal above.

    ``0.27``, ``4.2``, ``21.3``: below 1x one decimal would leave one digit (0.274 read as 0.3).
    """
    if not math.isfinite(value) or value <= 0 or value >= 10:
        return f"{value:.1f}"
    return f"{value:.{max(1, 1 - math.floor(math.log10(value)))}f}"


def interval_text(ci) -> str:
    """A 95 % interval as every output writes it: ``[3.2 to 4.3]``."""
    return f"[{ratio_text(ci[0])} to {ratio_text(ci[1])}]"


def no_estimate_text(n: int) -> str:
    """Below two counted trials there is no estimate, only its count: the same words everywhere."""
    return f"no estimate (n={n})"
