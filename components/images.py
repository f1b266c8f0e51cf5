"""What the registry side hands the workloads for each image, whoever produced it (import or build)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi


@dataclass
class PublishedImage:
    name: str  # config name; key of the `images` stack output
    repository: str
    tag: str
    streaming: bool
    ref: pulumi.Output[str]  # <loginServer>/<repository>:<tag>
    digest: pulumi.Output[str]  # sha256:... of the manifest the tag points to
    streaming_artifact_digest: pulumi.Output[str | None]  # None when not streaming
    # Resources a workload using this image must wait for: the import or build, and the streaming
    # artifact when there is one (a pod must never pull an image before its artifact exists).
    ready: list[pulumi.Resource] = field(default_factory=list)
    # Filled synthetic images: MB read at start before they answer HTTP on `app_port` (else None).
    startup_read_mb: int | None = None
    app_port: int | None = None
    # How its containers are confined (components/pod_security.py).
    security_profile: str = "unknown"

    def reference(self, by: str) -> pulumi.Output[str]:
        """The image reference both arms use: by tag, or pinned by digest."""
        if by == "digest":
            return pulumi.Output.all(self.ref, self.digest).apply(
                lambda parts: f"{parts[0].rsplit(':', 1)[0]}@{parts[1]}"
            )
        return self.ref

    def summary(self) -> pulumi.Output[dict]:
        """The `images` stack output entry."""
        return pulumi.Output.all(self.ref, self.digest, self.streaming_artifact_digest).apply(
            lambda parts: {
                "ref": parts[0],
                "digest": parts[1],
                "streaming": self.streaming,
                "streamingArtifactDigest": parts[2],
            }
        )
