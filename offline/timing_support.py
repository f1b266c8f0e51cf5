"""Helpers that tests and fixture builders of ``timing`` share, kept out of the ``timing`` package."""

from __future__ import annotations

from datetime import UTC, datetime


def format_time(dt: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix, as kubectl prints ``Time`` fields (whole seconds)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
