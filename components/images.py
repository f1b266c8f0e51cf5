"""What the registry side hands the workloads for each image, whoever produced it (import or build).

`image_traits` is the one rule for what a configured image needs of its pods (confinement, app port,
start-up read), and for what a custom workload's container says of them: the all-in-one, registry
and experiment stacks and the workloads all ask it, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components.dockerfiles import APP_PORT
from components.pod_security import NON_ROOT, OWN, UNKNOWN, profile_for_source
from stackconfig.model import ContainerConfig, ImageConfig, SyntheticImageConfig

# `container.confinement` -> profile (components/pod_security.py): the project's own, narrowed to widened.
CONFINEMENT_PROFILES = {"own": OWN, "non-root": NON_ROOT, "runtime-default": UNKNOWN}


@dataclass(frozen=True)
class ImageTraits:
    security_profile: str = UNKNOWN  # components/pod_security.py
    app_port: int | None = None  # filled synthetic images answer HTTP here once their start-up read is done
    startup_read_mb: int | None = None


def image_traits(
    image: ImageConfig | SyntheticImageConfig | None,
    sources: Mapping[str, str],
    container: ContainerConfig | None = None,
) -> ImageTraits:
    """What `image`'s pods need; `sources`: the public source of each imported image, by name.

    A custom workload's `container` decides for its pods: the command is the user's, so is the choice.
    """
    if container is not None:
        return ImageTraits(security_profile=CONFINEMENT_PROFILES[container.confinement], app_port=container.port)
    if image is None:
        raise ValueError("image_traits needs the image, or the custom container that decides for it")
    if isinstance(image, ImageConfig):
        # Your own image (existing, built, private): unknown to the project, the runtime's defaults.
        return ImageTraits(security_profile=profile_for_source(image.source or ""))
    if image.squash_of is not None:
        # A squashed copy runs its source's own start command, so it is confined as its source is.
        return ImageTraits(security_profile=profile_for_source(sources.get(image.squash_of, "")))
    return ImageTraits(security_profile=OWN, app_port=APP_PORT, startup_read_mb=image.read_mb)


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
    traits: ImageTraits = field(default_factory=ImageTraits)
    # The public reference it was imported from ("" for images built in the registry).
    source: str = ""

    @property
    def startup_read_mb(self) -> int | None:
        """Filled synthetic images: MB read at start before they answer HTTP on `app_port` (else None)."""
        return self.traits.startup_read_mb

    @property
    def app_port(self) -> int | None:
        return self.traits.app_port

    @property
    def security_profile(self) -> str:
        """How its containers are confined (components/pod_security.py)."""
        return self.traits.security_profile

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
