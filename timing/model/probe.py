"""What the node probe printed, parsed: overlaybd backstores, rootfs snapshotters, cache, exporter, journal.

The probe (``timing.measure.probe``) prints one fact per line, ``<key> <value>``; this module reads
those lines and nothing else, so the raw text saved in the results folder can always be re-read.
Definitions and what only a live node can confirm: docs/timing.md ("Node evidence").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

OVERLAYBD = "overlaybd"
OVERLAYFS = "overlayfs"
# The rootfs of a container started through the overlaybd snapshotter sits on a snapshot under this
# containerd plugin's directory; through the default snapshotter, under the overlayfs plugin's.
_SNAPSHOTTER_DIRS = {
    "io.containerd.snapshotter.v1.overlaybd": OVERLAYBD,
    "io.containerd.snapshotter.v1.overlayfs": OVERLAYFS,
}
# Exporter metrics counted as bytes fetched from the registry: a name with "bytes" and a word for
# fetching.  The exact names are what a live node must confirm (docs/timing.md).
_FETCHED_METRIC = re.compile(r"^(?P<name>[A-Za-z_:][\w:]*bytes[\w:]*)(?:\{[^}]*\})?\s+(?P<value>[0-9.eE+-]+)")
_FETCH_WORDS = ("download", "fetch", "read", "registry")


@dataclass
class NodeProbe:
    """One node's facts at one moment; None means the probe could not read that fact."""

    node: str
    backstores: int | None = None  # overlaybd TCMU backstores (configfs device directories)
    rootfs: dict[str, str] = field(default_factory=dict)  # container id -> overlaybd | overlayfs | other
    cache_files: int | None = None  # files in overlaybd's block caches
    bytes_fetched: int | None = None  # sum of the exporter's fetched-bytes counters
    metrics: list[str] = field(default_factory=list)  # the counters summed, verbatim
    journal: list[str] = field(default_factory=list)  # acr-mirror journal lines
    overlaybd_log: list[str] = field(default_factory=list)  # the tail of /var/log/overlaybd.log
    versions: dict[str, str] = field(default_factory=dict)  # package -> version (acr-mirror, overlaybd)
    errors: list[str] = field(default_factory=list)  # what the probe said it could not read

    def to_json(self) -> dict:
        return {
            "node": self.node,
            "backstores": self.backstores,
            "rootfs": self.rootfs,
            "cache_files": self.cache_files,
            "bytes_fetched": self.bytes_fetched,
            "metrics": self.metrics,
            "journal": self.journal,
            "overlaybd_log": self.overlaybd_log,
            "versions": self.versions,
            "errors": self.errors,
        }

    @classmethod
    def from_json(cls, doc: Mapping) -> NodeProbe:
        return cls(
            node=str(doc.get("node") or ""),
            backstores=doc.get("backstores"),
            rootfs=dict(doc.get("rootfs") or {}),
            cache_files=doc.get("cache_files"),
            bytes_fetched=doc.get("bytes_fetched"),
            metrics=list(doc.get("metrics") or []),
            journal=list(doc.get("journal") or []),
            overlaybd_log=list(doc.get("overlaybd_log") or []),
            versions=dict(doc.get("versions") or {}),
            errors=list(doc.get("errors") or []),
        )


def snapshotter_of_mount(line: str) -> str:
    """``overlaybd``/``overlayfs`` from a container rootfs's mount-table line, ``other`` otherwise."""
    for directory, name in _SNAPSHOTTER_DIRS.items():
        if directory in line:
            return name
    return "other"


def _count(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() else None


def _fetched(line: str) -> int | None:
    m = _FETCHED_METRIC.match(line)
    if not m or not any(w in m.group("name").lower() for w in _FETCH_WORDS):
        return None
    try:
        return int(float(m.group("value")))
    except ValueError:
        return None


def parse_probe_output(node: str, text: str) -> NodeProbe:
    """The probe's lines for ``node``; unknown keys are ignored (a newer probe may print more)."""
    probe = NodeProbe(node=node)
    fetched: list[int] = []
    for raw in text.splitlines():
        key, _, value = raw.strip().partition(" ")
        if key == "backstores":
            probe.backstores = _count(value)
        elif key == "cache-files":
            probe.cache_files = _count(value)
        elif key == "mount":
            container, _, line = value.partition(" ")
            if container and line.strip():
                probe.rootfs[container] = snapshotter_of_mount(line)
        elif key == "metric":
            amount = _fetched(value)
            if amount is not None:
                fetched.append(amount)
                probe.metrics.append(value)
        elif key == "mirror":
            probe.journal.append(value)
        elif key == "overlaybd-log":
            probe.overlaybd_log.append(value)
        elif key == "version":
            package, _, version = value.partition(" ")
            if version.strip():
                probe.versions[package] = version.strip()
        elif key == "error":
            probe.errors.append(value)
    probe.bytes_fetched = sum(fetched) if fetched else None
    return probe
