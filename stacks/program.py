"""The stack: registry, synthetic images, cluster and A/B workloads (or one side of them), and the exports.

Everything here is composition; the components decide how. Registry work and the cluster only share
the resource group, so `pulumi up` runs them side by side (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import authorization, resources

from components.cluster import StreamingCluster, StreamingClusterArgs
from components.images import PublishedImage, image_traits
from components.registry import AutoConversion, AutoConversionArgs, StreamingRegistry, StreamingRegistryArgs
from components.synthetic_images import SyntheticImages, SyntheticImagesArgs
from components.workloads import ABWorkloads, ABWorkloadsArgs
from contract import PROJECT
from providers.base import AzureTarget
from stackconfig.model import ImageConfig, StackConfig, SyntheticImageConfig
from stacks.config import source_passwords


def build(config: StackConfig, stack_name: str | None = None) -> dict[str, Any]:
    """Declare the stack for `config`; returns the stack outputs (names are a contract).

    Three shapes, chosen by config: all-in-one (the default), the registry stack (`role: registry`),
    and an experiment stack (`registryStack`) that takes the registry from the registry stack.
    """
    stack_name = stack_name or pulumi.get_stack()
    # The same identity azure-native uses: the dynamic providers act on this subscription and tenant.
    client = authorization.get_client_config_output()
    azure = AzureTarget(subscription_id=client.subscription_id, tenant_id=client.tenant_id)
    if config.is_experiment_stack:
        return _experiment_stack(config, stack_name, azure)
    side = _registry_side(config, azure)
    outputs = {
        "registryLoginServer": side.login_server,
        "registryId": side.registry_id,
        "registryName": side.registry_name,
        "resourceGroupName": side.resource_group_name,
        "images": pulumi.Output.all(**{name: image.summary() for name, image in side.images.items()}),
    }
    if config.is_registry_stack:
        return outputs
    return {**outputs, **_cluster_side(config, stack_name, azure, side)}


@dataclass
class RegistrySide:
    """What the cluster side needs of a registry, from this stack or from the registry stack."""

    login_server: pulumi.Output[str]
    registry_id: pulumi.Output[str]
    registry_name: pulumi.Output[str]
    resource_group_name: pulumi.Output[str]
    images: dict[str, PublishedImage]


def _registry_side(config: StackConfig, azure: AzureTarget) -> RegistrySide:
    registry = StreamingRegistry(
        "registry",
        StreamingRegistryArgs(
            location=config.location,
            name_prefix=config.name_prefix,
            registry=config.registry,
            images=config.images,
            timeouts=config.timeouts,
            azure=azure,
            protect=config.protect_registry,
            source_passwords=source_passwords(config),
        ),
    )
    images: dict[str, PublishedImage] = dict(registry.images)
    if config.synthetic_images:
        synthetic = SyntheticImages(
            "synthetic-images",
            SyntheticImagesArgs(
                images=config.synthetic_images,
                imported=registry.images,
                resource_group_name=registry.resource_group_name,
                registry_name=registry.registry_name,
                login_server=registry.login_server,
                timeouts=config.timeouts,
                azure=azure,
            ),
        )
        images.update(synthetic.images)
    if config.registry.auto_convert_repositories:
        producers: dict[str, list[pulumi.Resource]] = {}
        for published in images.values():
            producers.setdefault(published.repository, []).append(published.ready[0])  # the import or build
        AutoConversion(
            "registry-autoconvert",
            AutoConversionArgs(
                repositories=config.registry.auto_convert_repositories,
                producers=producers,
                login_server=registry.login_server,
                timeouts=config.timeouts,
                azure=azure,
                previous_parent=registry,
            ),
        )
    return RegistrySide(
        registry.login_server, registry.registry_id, registry.registry_name, registry.resource_group_name, images
    )


def _experiment_stack(config: StackConfig, stack_name: str, azure: AzureTarget) -> dict[str, Any]:
    """Cluster, pools and workloads on the registry of `config.registry_stack`; no registry resource."""
    assert config.registry_stack is not None  # is_experiment_stack
    registry_stack = config.registry_stack
    reference = pulumi.StackReference(registry_stack)
    exported = reference.require_output("images")
    sources = {image.name: image.source or "" for image in config.images}
    images = {
        image.name: referenced_image(image, exported, registry_stack, sources)
        for image in config.all_images
        if image.name in config.used_image_names() | {config.cluster.pull_check_image}
    }
    # Its own resource group: tearing the experiment down removes every node cache and nothing else.
    group = resources.ResourceGroup(
        "experiment-rg", resource_group_name=f"{config.name_prefix}-{stack_name}-rg", location=config.location
    )
    side = RegistrySide(
        login_server=reference.require_output("registryLoginServer"),
        registry_id=reference.require_output("registryId"),
        registry_name=reference.require_output("registryName"),
        resource_group_name=group.name,
        images=images,
    )
    return {
        "registryLoginServer": side.login_server,
        "registryStack": pulumi.Output.from_input(registry_stack),
        "resourceGroupName": group.name,
        # Every image of the registry stack, as it exports them (`timing` finds the purge busybox there).
        "images": exported,
        **_cluster_side(config, stack_name, azure, side),
    }


def referenced_image(
    image: ImageConfig | SyntheticImageConfig, exported: pulumi.Output, stack: str, sources: dict[str, str]
) -> PublishedImage:
    """An image of the registry stack, by name: its reference, digest and artifact from that stack's outputs.

    `sources`: the public source of each configured imported image, by name (`image_traits`).
    """

    def entry(images: Any) -> dict[str, Any]:
        found = (images or {}).get(image.name)
        if not isinstance(found, dict) or not found.get("ref"):
            have = ", ".join(sorted(images or {})) or "none"
            raise pulumi.RunError(
                f"{PROJECT}:registryStack: {stack} exports no image {image.name!r}, which this stack's workloads "
                f"or pull check use (it exports: {have}); add it to the registry stack's images and `pulumi up` it first"
            )
        return found

    chosen = exported.apply(entry)
    return PublishedImage(
        name=image.name,
        repository=image.repository,
        tag=image.tag,
        streaming=image.streaming,
        ref=chosen.apply(lambda e: e["ref"]),
        digest=chosen.apply(lambda e: e["digest"]),
        streaming_artifact_digest=chosen.apply(lambda e: e.get("streamingArtifactDigest")),
        ready=[],  # made and confirmed by the registry stack, before this stack runs
        traits=image_traits(image, sources),
        source=(image.source or "") if isinstance(image, ImageConfig) else "",
    )


def _cluster_side(config: StackConfig, stack_name: str, azure: AzureTarget, side: RegistrySide) -> dict[str, Any]:
    cluster = StreamingCluster(
        "cluster",
        StreamingClusterArgs(
            location=config.location,
            name_prefix=config.name_prefix,
            resource_group_name=side.resource_group_name,
            cluster=config.cluster,
            pools=config.pools,
            cache_generation=config.cache_generation,
            timeouts=config.timeouts,
            registry_id=side.registry_id,
            registry_name=side.registry_name,
            azure=azure,
            stack_name=stack_name,
            deployer_object_id=authorization.get_client_config_output().object_id,
        ),
    )
    workloads = ABWorkloads(
        "workloads",
        ABWorkloadsArgs(
            workloads=config.workloads,
            pools=config.pools,
            namespace=config.workload_namespace,
            images=side.images,
            load_balancer_source_ranges=config.load_balancer_source_ranges,
            public_endpoints=config.public_endpoints,
            network_policies=config.cluster.network_policy != "none",
            kubeconfig=cluster.kubeconfig,
            pool_resources=cluster.pool_resources,
            stack_name=stack_name,
            image_pull_secret_dockerconfigjson=cluster.image_pull_secret_dockerconfigjson,
            pull_check_image=side.images[config.cluster.pull_check_image],
            pull_check_minutes=config.timeouts.pull_check_minutes,
            acr_pull=cluster.acr_pull_role_assignment,
        ),
    )
    return {
        "clusterName": cluster.cluster_name,
        # `timing` reads the pools' artifact-streaming flag back from ARM through this id.
        "clusterId": cluster.managed_cluster.id,
        "kubeconfig": pulumi.Output.secret(cluster.kubeconfig),
        "oidcIssuerUrl": cluster.oidc_issuer_url,
        "pools": cluster.pools_summary,
        # For cluster.acrPull: external: whom an administrator assigns AcrPull to, and the exact command.
        "kubeletPrincipalId": cluster.kubelet_object_id,
        "acrPullCommand": cluster.acr_pull_command,
        "endpoints": workloads.endpoints,
        "timingReaders": workloads.timing_readers,
    }
