"""`SyntheticImages`: images built inside the registry by ACR tasks, plus their streaming artifacts.

Design notes: docs/providers.md ("components/synthetic_images.py").
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi import Input, Output, ResourceOptions

from components import dockerfiles
from components.images import PublishedImage
from providers.acr_build import AcrBuild
from providers.acr_streaming import StreamingArtifact
from stackconfig.fields import SOURCE_RE
from stackconfig.model import SyntheticImageConfig, TimeoutsConfig

TYPE = "acr-streaming-ab:synthetic_images:SyntheticImages"


@dataclass
class SyntheticImagesArgs:
    images: tuple[SyntheticImageConfig, ...]
    imported: dict[str, PublishedImage]
    resource_group_name: Input[str]
    registry_name: Input[str]
    login_server: Input[str]
    timeouts: TimeoutsConfig
    subscription_id: Input[str]
    tenant_id: Input[str]


def pinned_reference(login_server: str, image: PublishedImage, digest: str) -> str:
    """`<loginServer>/<repo>:<tag>@<digest>`: readable, and the digest decides what is pulled."""
    return f"{login_server}/{image.repository}:{image.tag}@{digest}"


class SyntheticImages(pulumi.ComponentResource):
    images: dict[str, PublishedImage]

    def __init__(self, name: str, args: SyntheticImagesArgs, opts: ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self.builds: dict[str, AcrBuild] = {}
        self.artifacts: dict[str, StreamingArtifact] = {}
        self.images = {}
        for config in args.images:
            dockerfile, squash_source = self._dockerfile(config, args)
            build = AcrBuild(
                f"{name}-{config.name}",
                subscription_id=args.subscription_id,
                tenant_id=args.tenant_id,
                resource_group_name=args.resource_group_name,
                registry_name=args.registry_name,
                login_server=args.login_server,
                target=config.target,
                dockerfile=dockerfile,
                squash_source=squash_source,
                timeout_minutes=args.timeouts.build_minutes,
                opts=ResourceOptions(parent=self),
            )
            self.builds[config.name] = build
            ready: list[pulumi.Resource] = [build]
            artifact_digest: Output[str | None] = Output.from_input(None)
            if config.streaming:
                artifact = StreamingArtifact(
                    f"{name}-{config.name}-streaming",
                    subscription_id=args.subscription_id,
                    tenant_id=args.tenant_id,
                    login_server=args.login_server,
                    repository=config.repository,
                    digest=build.digest,
                    timeout_minutes=args.timeouts.conversion_minutes,
                    # The digest Output already orders it after the build; said twice so it survives
                    # any refactoring of how the digest is passed.
                    opts=ResourceOptions(parent=self, depends_on=[build]),
                )
                self.artifacts[config.name] = artifact
                ready.append(artifact)
                artifact_digest = artifact.streaming_artifact_digest
            self.images[config.name] = PublishedImage(
                name=config.name,
                repository=config.repository,
                tag=config.tag,
                streaming=config.streaming,
                ref=build.ref,
                digest=build.digest,
                streaming_artifact_digest=artifact_digest,
                ready=ready,
            )
        self.register_outputs({"images": {n: i.summary() for n, i in self.images.items()}})

    @staticmethod
    def _dockerfile(config: SyntheticImageConfig, args: SyntheticImagesArgs) -> tuple[Output[str], Output[dict] | None]:
        if config.squash_of is not None:
            source = _imported(args, config.squash_of, f"{config.name}.squashOf")
            reference = Output.all(args.login_server, source.digest).apply(
                lambda parts: pinned_reference(parts[0], source, parts[1])
            )
            dockerfile = reference.apply(dockerfiles.squash_dockerfile_head)
            squash_source = source.digest.apply(lambda digest: {"repository": source.repository, "digest": digest})
            return dockerfile, squash_source
        assert config.size_mb is not None and config.layers is not None  # enforced by stackconfig/model.py
        size_mb, layers, fill = config.size_mb, config.layers, config.fill
        if config.base_image in args.imported:
            base = args.imported[config.base_image]
            reference = Output.all(args.login_server, base.digest).apply(
                lambda parts: pinned_reference(parts[0], base, parts[1])
            )
        elif SOURCE_RE.fullmatch(config.base_image):
            reference = Output.from_input(config.base_image)
        else:
            # A configured name the composition did not pass in: never fall back to Docker Hub.
            raise ValueError(
                f"synthetic image {config.name}.baseImage: {config.base_image!r} is neither an "
                f"imported image (have: {', '.join(sorted(args.imported)) or 'none'}) nor a "
                "full image reference"
            )
        return reference.apply(lambda ref: dockerfiles.filled_dockerfile(ref, size_mb, layers, fill)), None


def _imported(args: SyntheticImagesArgs, name: str, what: str) -> PublishedImage:
    if name not in args.imported:
        raise ValueError(
            f"synthetic image {what}: {name!r} is not an imported image "
            f"(have: {', '.join(sorted(args.imported)) or 'none'})"
        )
    return args.imported[name]
