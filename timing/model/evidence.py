"""What was read about a trial besides pods and events: the nodes, the pools' ARM flag, the images.

Read by ``measure`` (and a live ``report``), written to and read from a results folder, checked by
``timing.analysis.verify``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class Evidence:
    """What was read about one trial (or a live cluster) besides pods and events."""

    pool_streaming: dict[str, bool | None] = field(default_factory=dict)  # ARM artifactStreamingProfile.enabled
    node_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    # Node status.images names, read before the pods of the trial were created; None = not read.
    node_images_before: dict[str, list[str]] | None = None
    streaming_artifacts: dict[str, bool] = field(default_factory=dict)  # image ref -> has one

    def to_json(self) -> dict:
        return {
            "pool_streaming": self.pool_streaming,
            "node_labels": self.node_labels,
            "node_images_before": self.node_images_before,
            "streaming_artifacts": self.streaming_artifacts,
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
        )


def node_image_names(node: Mapping) -> list[str]:
    return [n for img in ((node.get("status") or {}).get("images") or ()) for n in (img.get("names") or ())]
