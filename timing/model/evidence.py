"""What was read about a trial besides pods and events: the nodes, the pools' ARM flag, the images.

Read by ``measure`` (and a live ``report``), written to and read from a results folder, checked by
``timing.analysis.verify``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from timing.model.probe import NodeProbe


@dataclass
class Evidence:
    """What was read about one trial (or a live cluster) besides pods and events."""

    pool_streaming: dict[str, bool | None] = field(default_factory=dict)  # ARM artifactStreamingProfile.enabled
    node_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    # Node status.images names, read before the pods of the trial were created; None = not read.
    node_images_before: dict[str, list[str]] | None = None
    streaming_artifacts: dict[str, bool] = field(default_factory=dict)  # image ref -> has one
    # The node probe while the trial's pods ran (before scale-down), and right after the reset.
    probes: dict[str, NodeProbe] = field(default_factory=dict)
    probes_after_reset: dict[str, NodeProbe] = field(default_factory=dict)
    node_facts: dict[str, dict] = field(default_factory=dict)  # timing.model.nodes.node_facts per node

    def to_json(self) -> dict:
        return {
            "pool_streaming": self.pool_streaming,
            "node_labels": self.node_labels,
            "node_images_before": self.node_images_before,
            "streaming_artifacts": self.streaming_artifacts,
            "probes": {n: p.to_json() for n, p in self.probes.items()},
            "probes_after_reset": {n: p.to_json() for n, p in self.probes_after_reset.items()},
            "node_facts": self.node_facts,
        }

    @classmethod
    def from_json(cls, doc: Mapping) -> Evidence:
        return cls(
            pool_streaming=dict(doc.get("pool_streaming") or {}),
            node_labels={k: dict(v or {}) for k, v in (doc.get("node_labels") or {}).items()},
            node_images_before=(
                None
                if doc.get("node_images_before") is None
                else {k: list(v or []) for k, v in doc["node_images_before"].items()}
            ),
            streaming_artifacts=dict(doc.get("streaming_artifacts") or {}),
            probes={n: NodeProbe.from_json(p) for n, p in (doc.get("probes") or {}).items()},
            probes_after_reset={n: NodeProbe.from_json(p) for n, p in (doc.get("probes_after_reset") or {}).items()},
            node_facts={n: dict(f or {}) for n, f in (doc.get("node_facts") or {}).items()},
        )


def node_image_names(node: Mapping) -> list[str]:
    return [n for img in ((node.get("status") or {}).get("images") or ()) for n in (img.get("names") or ())]
