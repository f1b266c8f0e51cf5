"""Go ``time.Duration`` text (what kubelet prints with ``%v``) to seconds."""

from __future__ import annotations

import re

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,  # MICRO SIGN, what Go's Duration.String() emits
    "\u03bcs": 1e-6,  # GREEK SMALL LETTER MU, also accepted by time.ParseDuration
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_MAX_SECONDS = (2**63 - 1) / 1e9  # time.Duration is int64 nanoseconds: Go refuses anything longer
# Longest units first so "ms" is not read as "m" followed by garbage.  Possessive quantifiers: a
# digit run without a unit fails at once instead of being re-tried at every length (quadratic).
_COMPONENT = re.compile(r"(\d++(?:\.\d*+)?+|\.\d++)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")


def parse_go_duration(text: str) -> float:
    """Parse ``1m4.215s``, ``834ms``, ``2m0s``, ``1h2m3.5s``, ``500µs`` ... to seconds.

    Follows ``time.ParseDuration``: an optional sign, then one or more
    number+unit components; a bare ``0`` is allowed.  Raises ``ValueError``
    on anything else so a new kubelet wording is noticed rather than misread.
    """
    s = text.strip()
    if not s:
        raise ValueError("empty duration")
    sign = 1.0
    if s[0] in "+-":
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    pos = 0
    total = 0.0
    while pos < len(s):
        m = _COMPONENT.match(s, pos)
        if not m:
            raise ValueError(f"invalid Go duration: {text!r}")
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos == 0:
        raise ValueError(f"invalid Go duration: {text!r}")
    if total > _MAX_SECONDS:
        raise ValueError(f"Go duration out of range: {text[:40]!r}...")
    return sign * total
