"""Kubernetes timestamps (RFC 3339 ``Time`` and ``MicroTime``)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


def parse_time(value: str | None) -> datetime | None:
    """Parse ``2024-05-01T10:00:00Z`` / ``...00.123456Z``; ``None`` stays ``None``.

    Python 3.11's ``fromisoformat`` reads both; nanosecond fractions (never
    written by the API server, but possible in hand-edited dumps) are cut to
    microseconds rather than rejected.
    """
    if not value:
        return None
    if type(value) is str:
        return _parse_text(value)
    return _parse(value)


def _parse(value) -> datetime:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        head, _, tail = value.partition(".")
        digits = "".join(ch for ch in tail if ch.isdigit())
        zone = tail[len(digits) :]
        dt = datetime.fromisoformat(f"{head}.{digits[:6]}{zone}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt


# Timestamps are whole seconds: the pods and events of a dump share a few thousand of them, and a
# datetime is immutable, so each distinct text is parsed once.
_parse_text = lru_cache(maxsize=1 << 14)(_parse)


def format_micro_time(dt: datetime) -> str:
    """RFC 3339 with microseconds, as the API prints ``MicroTime`` fields."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_time(dt: datetime) -> str:
    """RFC 3339 in whole seconds, as the API prints ``Time`` fields (``creationTimestamp``)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()
