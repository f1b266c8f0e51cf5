"""The start-up lines the project's own images log (``streaming-ab: start|ready <RFC 3339 ms>``).

Written by the synthetic images' entrypoint (components/dockerfiles.py) with the container's
clock; ``ready`` means the start-up read is done and the HTTP readiness endpoint is up.
"""

from __future__ import annotations

from datetime import datetime

from contract import APP_LOG_MARKER
from timing.model.kube_time import parse_time

APP_LOG_RESOLUTION = 1e-3  # the entrypoint prints milliseconds


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
