"""`SyntheticImages`: images built inside the registry by ACR tasks, plus their streaming artifacts.

Design notes: docs/providers.md ("components/synthetic_images.py").
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi import Input, Output, ResourceOptions

from components import dockerfiles
from components.images import PublishedImage, image_traits
from providers.acr_build import AcrBuild
from providers.acr_streaming import StreamingArtifact
from providers.base import AzureTarget
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
    azure: AzureTarget


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
            # Named by target, never by config name: a rename is no create plus delete of one tag. The
            # aliases carry the config-named resources of stacks deployed before.
            build = AcrBuild(
                f"{name}-{config.target}",
                azure=args.azure,
                resource_group_name=args.resource_group_name,
                registry_name=args.registry_name,
                login_server=args.login_server,
                target=config.target,
                dockerfile=dockerfile,
                squash_source=squash_source,
                timeout_minutes=args.timeouts.build_minutes,
                opts=ResourceOptions(parent=self, aliases=[pulumi.Alias(name=f"{name}-{config.name}")]),
            )
            self.builds[config.name] = build
            ready: list[pulumi.Resource] = [build]
            artifact_digest: Output[str | None] = Output.from_input(None)
            if config.streaming:
                artifact = StreamingArtifact(
                    f"{name}-{config.target}-streaming",
                    azure=args.azure,
                    login_server=args.login_server,
                    repository=config.repository,
                    digest=build.digest,
                    timeout_minutes=args.timeouts.conversion_minutes,
                    # The digest Output already orders it after the build; said twice so it survives
                    # any refactoring of how the digest is passed.
                    opts=ResourceOptions(
                        parent=self,
                        depends_on=[build],
                        aliases=[pulumi.Alias(name=f"{name}-{config.name}-streaming")],
                    ),
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
                traits=image_traits(config, {n: i.source for n, i in args.imported.items()}),
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
        assert config.size_mb is not None and config.layers is not None  # enforced by stackconfig/images.py
        size_mb, layers, fill, read_mb = config.size_mb, config.layers, config.fill, config.read_mb or 0
        base = _resolved(args, config.base_image, f"{config.name}.baseImage")
        tools = _resolved(args, config.tools_image, f"{config.name}.toolsImage")
        dockerfile = Output.all(base, tools).apply(
            lambda refs: dockerfiles.filled_dockerfile(refs[0], size_mb, layers, fill, refs[1], read_mb)
        )
        return dockerfile, None


def _resolved(args: SyntheticImagesArgs, name: str, what: str) -> Output[str]:
    """A configured image pinned by digest in this registry, or a full reference as given."""
    if name in args.imported:
        image = args.imported[name]
        return Output.all(args.login_server, image.digest).apply(
            lambda parts: pinned_reference(parts[0], image, parts[1])
        )
    if SOURCE_RE.fullmatch(name):
        return Output.from_input(name)
    # A configured name the composition did not pass in: never fall back to Docker Hub.
    raise ValueError(
        f"synthetic image {what}: {name!r} is neither an imported image "
        f"(have: {', '.join(sorted(args.imported)) or 'none'}) nor a full image reference"
    )


def _imported(args: SyntheticImagesArgs, name: str, what: str) -> PublishedImage:
    if name not in args.imported:
        raise ValueError(
            f"synthetic image {what}: {name!r} is not an imported image "
            f"(have: {', '.join(sorted(args.imported)) or 'none'})"
        )
    return args.imported[name]
