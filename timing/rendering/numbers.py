"""How a count, or a median of counts, reads in every output (terminal, HTML, Markdown): one rule."""

from __future__ import annotations


def count_text(value: float) -> str:
    """Replicas and pods per node: at most two decimals, trailing zeros dropped (``7.14``, ``2.5``, ``10``)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
