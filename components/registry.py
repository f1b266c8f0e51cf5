"""`StreamingRegistry`: the Premium registry, the imported images and their streaming artifacts.

Nothing here waits for the cluster (ARCHITECTURE.md, dependency graph): the registry needs only its
resource group, an import only its registry, a streaming artifact only its import's digest.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random
from pulumi_azure_native import containerregistry, resources

from components.images import PublishedImage, image_traits
from providers.acr_import import ImportedImage
from providers.acr_streaming import RepositoryStreaming, StreamingArtifact
from providers.base import AzureTarget
from stackconfig.fields import REGISTRY_SUFFIX_LENGTH
from stackconfig.model import ImageConfig, RegistryConfig, TimeoutsConfig


@dataclass(frozen=True)
class StreamingRegistryArgs:
    location: str
    name_prefix: str
    registry: RegistryConfig
    images: tuple[ImageConfig, ...]
    timeouts: TimeoutsConfig
    azure: AzureTarget  # who the dynamic resources act as (stacks/program.py makes it once)
    # Pulumi `protect`: a registry shared by experiment stacks must survive a stray `pulumi destroy`.
    protect: bool = False


class StreamingRegistry(pulumi.ComponentResource):
    resource_group_name: pulumi.Output[str]
    registry_id: pulumi.Output[str]
    registry_name: pulumi.Output[str]
    login_server: pulumi.Output[str]
    images: dict[str, PublishedImage]

    def __init__(self, name: str, args: StreamingRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("acr-streaming-ab:registry:StreamingRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.resource_group_name = self._resource_group(name, args, child)
        registry = self._registry(name, args, child)
        self.registry_id = registry.id
        self.registry_name = registry.name
        self.login_server = registry.login_server
        self._import_images(name, args, registry, child)

        self.register_outputs(
            {
                "resourceGroupName": self.resource_group_name,
                "registryName": self.registry_name,
                "loginServer": self.login_server,
                "images": {key: published.summary() for key, published in self.images.items()},
            }
        )

    def _resource_group(
        self, name: str, args: StreamingRegistryArgs, child: pulumi.ResourceOptions
    ) -> pulumi.Output[str]:
        """The configured existing group, or one of the stack's own."""
        if args.registry.existing_resource_group:
            existing = resources.get_resource_group_output(
                resource_group_name=args.registry.existing_resource_group, opts=pulumi.InvokeOutputOptions(parent=self)
            )
            return existing.name
        group = resources.ResourceGroup(
            f"{name}-rg", resource_group_name=f"{args.name_prefix}-rg", location=args.location, opts=child
        )
        return group.name

    def _registry(
        self, name: str, args: StreamingRegistryArgs, child: pulumi.ResourceOptions
    ) -> containerregistry.Registry:
        """The registry (`registry.sku`), named by the prefix and a random suffix drawn once."""
        # Registry names are global across Azure; the suffix lives in state, so it is drawn once.
        suffix = random.RandomString(
            f"{name}-suffix",
            length=REGISTRY_SUFFIX_LENGTH,
            lower=True,
            numeric=True,
            upper=False,
            special=False,
            opts=child,
        )
        return containerregistry.Registry(
            f"{name}-acr",
            registry_name=pulumi.Output.concat(args.name_prefix, suffix.result),
            resource_group_name=self.resource_group_name,
            location=args.location,
            sku=containerregistry.SkuArgs(name=args.registry.sku),
            # Pulls authenticate with AAD (AcrPull for the kubelet identity, or a scoped token).
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )

    def _import_images(
        self,
        name: str,
        args: StreamingRegistryArgs,
        registry: containerregistry.Registry,
        child: pulumi.ResourceOptions,
    ) -> None:
        """One `ImportedImage` per configured image, and the streaming artifacts of the streaming ones."""
        self.images = {}
        # One streaming artifact per (repository, source): images that import the same source into one
        # repository point at one digest, and two resources for it would let one delete the other's.
        artifacts: dict[tuple[str, str], StreamingArtifact] = {}
        for image in args.images:
            imported = ImportedImage(
                f"{name}-import-{image.name}",
                azure=args.azure,
                resource_group_name=self.resource_group_name,
                registry_name=registry.name,
                login_server=registry.login_server,
                source=image.source,
                target=image.target,
                timeout_minutes=args.timeouts.import_minutes,
                opts=child,
            )
            ready: list[pulumi.Resource] = [imported]
            artifact_digest: pulumi.Output[str | None] = pulumi.Output.from_input(None)
            if image.streaming:
                shared = (image.repository, image.source)
                if shared not in artifacts:
                    # Named after the first image of the source (config order). The digest input is the
                    # import's output: the conversion starts once the image is there.
                    artifacts[shared] = StreamingArtifact(
                        f"{name}-streaming-{image.name}",
                        azure=args.azure,
                        login_server=registry.login_server,
                        repository=image.repository,
                        digest=imported.digest,
                        timeout_minutes=args.timeouts.conversion_minutes,
                        opts=child,
                    )
                artifact = artifacts[shared]
                ready.append(artifact)
                artifact_digest = artifact.streaming_artifact_digest
            self.images[image.name] = PublishedImage(
                name=image.name,
                repository=image.repository,
                tag=image.tag,
                streaming=image.streaming,
                ref=imported.ref,
                digest=imported.digest,
                streaming_artifact_digest=artifact_digest,
                ready=ready,
                traits=image_traits(image, {}),
                source=image.source,
            )


def auto_convert_resource_name(repository: str) -> str:
    """Resource name suffix of a repository's auto-conversion switch (config refuses two that collide)."""
    return repository.replace("/", "-")


@dataclass(frozen=True)
class AutoConversionArgs:
    repositories: tuple[str, ...]
    # Everything that pushes into each repository: imports and ACR task builds alike. The switch
    # needs the repository to exist, and must not convert half of what the stack is still pushing.
    producers: dict[str, list[pulumi.Resource]]
    login_server: pulumi.Input[str]
    timeouts: TimeoutsConfig
    azure: AzureTarget
    # The component these switches were children of before they had their own (kept in state).
    previous_parent: pulumi.Resource | None = None


class AutoConversion(pulumi.ComponentResource):
    """`convertPushedImages` on the configured repositories, after every import and build into them."""

    def __init__(self, name: str, args: AutoConversionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("acr-streaming-ab:registry:AutoConversion", name, None, opts)
        self.switches: dict[str, RepositoryStreaming] = {}
        for repository in args.repositories:
            aliases = [pulumi.Alias(parent=args.previous_parent)] if args.previous_parent is not None else []
            self.switches[repository] = RepositoryStreaming(
                f"{name}-{auto_convert_resource_name(repository)}",
                azure=args.azure,
                login_server=args.login_server,
                repository=repository,
                convert_pushed_images=True,
                timeout_minutes=args.timeouts.conversion_minutes,
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=list(args.producers.get(repository, [])), aliases=aliases
                ),
            )
        self.register_outputs({"repositories": list(args.repositories)})
