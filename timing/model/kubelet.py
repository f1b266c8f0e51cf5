"""Kubelet image-pull event messages, in every wording kubelets have shipped.

Design notes: docs/timing.md ("timing/model/kubelet.py").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from timing.model.durations import parse_go_duration

PULLED = "pulled"
PRESENT = "present"
FAILED = "failed"
BACKOFF = "backoff"
PULLING = "pulling"
STREAMED = "streamed"  # AKS's acr-nodemon: the pull was upgraded to the streaming artifact (never a pull start)
UNREADY = "unready"  # a failed readiness probe: not a pull, but it tells a Ready time is not the first

# The component AKS posts its second "Pulling" event as (source.component / reportingController).
ACR_NODEMON = "acr-nodemon"

# Reasons kubelet uses for the messages above; anything else is skipped
# before any regex runs, which keeps 50 000-event dumps cheap.
PULL_REASONS = frozenset({"Pulled", "Pulling", "Failed", "BackOff", "ErrImageNeverPull", "InspectFailed", "Unhealthy"})

_PULLED = re.compile(
    r'^Successfully pulled image "(?P<image>[^"]+)" in (?P<d>[^ (]+?)'
    r"(?: \((?P<w>[^ )]+) including waiting\))?"
    r"(?:\. Image size: (?P<size>\d+) bytes)?\.?$"
)
# Any future wording that still starts like this is a pull that happened:
# cold, with the duration unknown, rather than silently "no pull event".
_PULLED_ANY = re.compile(r'^Successfully pulled image "(?P<image>[^"]+)"')
_PRESENT = re.compile(
    r'^Container image "(?P<image>[^"]+)" already present on machine(?: and can be accessed by the pod)?\.?$'
)
_FAILED = re.compile(r'^Failed to pull image "(?P<image>[^"]+)"')
_BACKOFF = re.compile(r'^Back-off pulling image "(?P<image>[^"]+)"')
_PULLING = re.compile(r'^Pulling image "(?P<image>[^"]+)"')
_STREAMING_ENABLED = re.compile(
    r'^Streaming enabled for "(?P<image>[^"]+)"(?:, upgraded to streaming artifact with digest "(?P<digest>[^"]+)")?'
)
# Reason=Failed messages that name no image but still mean the pull failed;
# they carry the container in fieldPath.
_FAILED_NO_IMAGE = (
    "Error: ErrImagePull",
    "Error: ImagePullBackOff",
    "Error: ErrImageNeverPull",
    "Error: InvalidImageName",
)


@dataclass(frozen=True)
class PullMessage:
    kind: str
    image: str | None
    pull_seconds: float | None = None
    including_waiting_seconds: float | None = None
    image_size_bytes: int | None = None
    digest: str | None = None  # STREAMED: the streaming artifact's digest
    text: str | None = None  # STREAMED: the message verbatim (it is evidence)


def parse_nodemon_message(message: str) -> PullMessage | None:
    """An acr-nodemon event: ``Streaming enabled for "<ref>"...`` is streaming evidence, any other text none."""
    msg = (message or "").strip()
    m = _STREAMING_ENABLED.match(msg)
    return PullMessage(STREAMED, m.group("image"), digest=m.group("digest"), text=msg) if m else None


def parse_message(reason: str, message: str) -> PullMessage | None:
    """Classify one kubelet event; ``None`` when it is not about image pulls."""
    if reason not in PULL_REASONS or not message:
        return None
    if type(message) is str:
        return _parse_cached(reason, message)
    return _parse(reason, message)


def _parse(reason: str, message: str) -> PullMessage | None:
    msg = message.strip()
    if reason == "Pulled":
        m = _PULLED.match(msg)
        if m:
            try:
                w = m.group("w")
                size = m.group("size")
                return PullMessage(
                    PULLED,
                    m.group("image"),
                    parse_go_duration(m.group("d")),
                    parse_go_duration(w) if w else None,
                    int(size) if size else None,
                )
            except ValueError:
                pass
        m = _PRESENT.match(msg)
        if m:
            return PullMessage(PRESENT, m.group("image"))
        m = _PULLED_ANY.match(msg)
        if m:
            return PullMessage(PULLED, m.group("image"))
        return None
    if reason == "Pulling":
        m = _PULLING.match(msg)
        return PullMessage(PULLING, m.group("image")) if m else None
    if reason == "Unhealthy":
        return PullMessage(UNREADY, None) if msg.startswith("Readiness probe failed") else None
    if reason == "BackOff":
        m = _BACKOFF.match(msg)
        return PullMessage(BACKOFF, m.group("image")) if m else None
    # Failed / ErrImageNeverPull / InspectFailed
    m = _FAILED.match(msg)
    if m:
        return PullMessage(FAILED, m.group("image"))
    if reason in ("ErrImageNeverPull", "InspectFailed") or msg.startswith(_FAILED_NO_IMAGE):
        return PullMessage(FAILED, None)
    return None


# Every replica of an arm gets the same "Pulling image", "already present",
# "Back-off" and "Failed" texts, so most messages of a dump repeat; the result
# is an immutable PullMessage and can be shared.  Bounded so a long-running
# process reading many dumps does not keep every distinct message.
_parse_cached = lru_cache(maxsize=8192)(_parse)
