"""App-ready lines: the project's own (``streaming-ab: start|ready <RFC 3339 ms>``) or a custom one.

The synthetic images' entrypoint (components/dockerfiles.py) writes its own with the container's
clock; ``ready`` means the start-up read is done and the HTTP readiness endpoint is up. A custom
workload names a regular expression instead (pod annotation ``ANNOTATION_APP_READY_LOG``): its first
matching line is app-ready, at the time the runtime stamped on it (logs read with timestamps).
"""

from __future__ import annotations

import re
from datetime import datetime

from contract import APP_LOG_MARKER
from timing.model.kube_time import parse_time

APP_LOG_RESOLUTION = 1e-3  # the entrypoint prints milliseconds
# How much of each line a custom pattern is searched in: a pattern from a pod annotation is input, and
# a bounded line bounds what a badly written one can cost.
PATTERN_LINE_CHARS = 4096


def app_times(log_text: str | None) -> dict[str, datetime]:
    """``{"start": t, "ready": t}`` from a container log; the first line of each kind wins."""
    out: dict[str, datetime] = {}
    for line in (log_text or "").splitlines():
        # `kubectl logs --timestamps` prefixes each line with the runtime's own time: skip to the marker.
        at = line.find(APP_LOG_MARKER)
        if at < 0:
            continue
        parts = line[at + len(APP_LOG_MARKER) :].split()
        if len(parts) < 2 or parts[0] not in ("start", "ready") or parts[0] in out:
            continue
        try:
            t = parse_time(parts[1])
        except ValueError:
            continue
        if t is not None:
            out[parts[0]] = t
    return out


def pattern_ready_time(log_text: str | None, pattern: str) -> datetime | None:
    """The runtime's timestamp of the first line matching `pattern` (searched in the line after it).

    A line without the ``--timestamps`` prefix has no time of its own, and a pattern that does not
    compile gives none either: no app-ready time rather than a guessed one.
    """
    try:
        wanted = re.compile(pattern)
    except re.error:
        return None
    for line in (log_text or "").splitlines():
        stamp, _, text = line.partition(" ")
        if not wanted.search(text[:PATTERN_LINE_CHARS]):
            continue
        try:
            return parse_time(stamp)
        except ValueError:
            return None
    return None
