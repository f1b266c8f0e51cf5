"""`StreamingRegistry`: the Premium registry, the imported images and their streaming artifacts.

Nothing here waits for the cluster (ARCHITECTURE.md, dependency graph): the registry needs only its
resource group, an import only its registry, a streaming artifact only its import's digest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_random as random
from pulumi_azure_native import containerregistry, resources

from components.images import PublishedImage, image_traits
from contract import PROJECT
from providers.acr_build import AcrBuild
from providers.acr_import import ExistingImage, ImportedImage, import_source
from providers.acr_streaming import RepositoryStreaming, StreamingArtifact
from providers.base import AzureTarget
from providers.build_context import BuildContextError, context_digest, folder_context
from stackconfig.errors import ConfigError
from stackconfig.fields import REGISTRY_SUFFIX_LENGTH
from stackconfig.model import ImageConfig, RegistryConfig, TimeoutsConfig

# The engine's type of providers.acr_import.ImportedImage (dynamic resources are `pulumi-python:dynamic/<module>:<name>`).
IMPORTED_IMAGE_TYPE = "pulumi-python:dynamic/acr:ImportedImage"


@dataclass(frozen=True)
class StreamingRegistryArgs:
    location: str
    name_prefix: str
    registry: RegistryConfig
    images: tuple[ImageConfig, ...]
    timeouts: TimeoutsConfig
    azure: AzureTarget  # who the dynamic resources act as (stacks/program.py makes it once)
    # Pulumi `protect`: a replace (namePrefix, location, sku) or a stray destroy stops at the engine.
    protect: bool = True
    # Secret Outputs of `images[].credentials.passwordKey`, by image name (stacks/config.py reads them).
    source_passwords: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)


class StreamingRegistry(pulumi.ComponentResource):
    resource_group_name: pulumi.Output[str]
    registry_id: pulumi.Output[str]
    registry_name: pulumi.Output[str]
    login_server: pulumi.Output[str]
    images: dict[str, PublishedImage]

    def __init__(self, name: str, args: StreamingRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        # Packed first: a folder that cannot be sent stops the program before anything is declared.
        context_digests = pack_build_contexts(args.images)
        super().__init__("acr-streaming-ab:registry:StreamingRegistry", name, None, opts)
        self._context_digests = context_digests
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
            public_network_access=args.registry.public_network_access,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )

    def _import_images(
        self,
        name: str,
        args: StreamingRegistryArgs,
        registry: containerregistry.Registry,
        child: pulumi.ResourceOptions,
    ) -> None:
        """What puts each image into the registry, one per target; one `StreamingArtifact` per (repository, source).

        Both are named by what they are in the registry, never by config name or list order, so renaming,
        reordering or dropping an image cannot turn into a create of one resource and a delete of
        another that holds the same tag or artifact (docs/operations.md, "Config edits"). Images go in
        target order: an artifact takes its digest from the first target of its (repository, source).
        """
        sharing: dict[tuple[str, str], list[ImageConfig]] = {}
        for image in args.images:
            if image.streaming:
                sharing.setdefault(artifact_key(image), []).append(image)
        artifacts: dict[tuple[str, str], StreamingArtifact] = {}
        published: dict[str, PublishedImage] = {}
        for image in sorted(args.images, key=lambda image: image.target):
            produced, digest, ref = self._produce(name, args, registry, image, child)
            key = artifact_key(image)
            if image.streaming and key not in artifacts:
                artifacts[key] = StreamingArtifact(
                    f"{name}-streaming-{key[0]}@{key[1]}",
                    azure=args.azure,
                    login_server=registry.login_server,
                    repository=image.repository,
                    digest=digest,
                    timeout_minutes=args.timeouts.conversion_minutes,
                    # The names it had when it was named after an image of the pair.
                    opts=pulumi.ResourceOptions.merge(
                        child,
                        pulumi.ResourceOptions(
                            aliases=[pulumi.Alias(name=f"{name}-streaming-{other.name}") for other in sharing[key]]
                        ),
                    ),
                )
            artifact = artifacts.get(key) if image.streaming else None
            published[image.name] = PublishedImage(
                name=image.name,
                repository=image.repository,
                tag=image.tag,
                streaming=image.streaming,
                ref=ref,
                digest=digest,
                streaming_artifact_digest=(
                    artifact.streaming_artifact_digest if artifact is not None else pulumi.Output.from_input(None)
                ),
                ready=[produced] if artifact is None else [produced, artifact],
                traits=image_traits(image, {}),
                source=image.source or "",
            )
        self.images = {image.name: published[image.name] for image in args.images}

    def _produce(
        self,
        name: str,
        args: StreamingRegistryArgs,
        registry: containerregistry.Registry,
        image: ImageConfig,
        child: pulumi.ResourceOptions,
    ) -> tuple[pulumi.Resource, pulumi.Output[str], pulumi.Output[str]]:
        """What puts `image` into the registry (an import, nothing: already there, or a build), its digest and ref."""
        if image.origin == "existing":
            existing = ExistingImage(
                f"{name}-existing-{image.target}",
                azure=args.azure,
                login_server=registry.login_server,
                target=image.target,
                timeout_minutes=args.timeouts.import_minutes,
                # `source` -> `existing: true` on one target: the import (by either of its names) becomes
                # this resource in place (an update), so the import's delete never untags the image that stays.
                opts=pulumi.ResourceOptions.merge(
                    child,
                    pulumi.ResourceOptions(
                        aliases=[
                            pulumi.Alias(name=import_name, type_=IMPORTED_IMAGE_TYPE)
                            for import_name in (import_resource_name(name, image), f"{name}-import-{image.name}")
                        ]
                    ),
                ),
            )
            return existing, existing.digest, existing.ref
        if image.build is not None:
            context = image.build.context
            build = AcrBuild(
                f"{name}-build-{image.target}",
                azure=args.azure,
                resource_group_name=self.resource_group_name,
                registry_name=registry.name,
                login_server=registry.login_server,
                target=image.target,
                dockerfile=None,
                timeout_minutes=args.timeouts.build_minutes,
                # The digest of the folder as it is now: any changed file builds again.
                user_context={
                    "path": context,
                    "dockerfile": image.build.dockerfile,
                    "digest": self._context_digests[image.target],
                },
                opts=child,
            )
            return build, build.digest, build.ref
        credentials = image.credentials
        assert image.source is not None  # stackconfig/images.py: exactly one of source, existing, build
        imported = ImportedImage(
            import_resource_name(name, image),
            azure=args.azure,
            resource_group_name=self.resource_group_name,
            registry_name=registry.name,
            login_server=registry.login_server,
            source=image.source,
            target=image.target,
            timeout_minutes=args.timeouts.import_minutes,
            source_username=credentials.username if credentials else None,
            source_password=args.source_passwords[image.name] if credentials else None,
            source_registry_id=image.source_registry_id,
            # The name it had when imports were named after the config entry.
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(aliases=[pulumi.Alias(name=f"{name}-import-{image.name}")])
            ),
        )
        return imported, imported.digest, imported.ref


def pack_build_contexts(images: tuple[ImageConfig, ...]) -> dict[str, str]:
    """The digest of each built image's folder as it is now (any changed file builds again), by target."""
    digests: dict[str, str] = {}
    for i, image in enumerate(images):
        if image.build is None:
            continue
        try:
            digests[image.target] = context_digest(folder_context(image.build.context))
        except BuildContextError as error:
            raise ConfigError([f"{PROJECT}:images[{i}].build.context: {error}"]) from None
    return digests


def import_resource_name(component: str, image: ImageConfig) -> str:
    """An import is its target tag in the registry (targets are unique in a stack)."""
    return f"{component}-import-{image.target}"


def artifact_key(image: ImageConfig) -> tuple[str, str]:
    """(repository, source as ACR import reads it): `docker.io/alpine:3.20` and `docker.io/library/alpine:3.20`
    are one image, so they share one streaming artifact. An image already there or built is its own source."""
    if image.source is None:
        return image.repository, image.target
    fields = import_source(image.source)
    return image.repository, f"{fields['registryUri']}/{fields['sourceImage']}"


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
