"""The whole stack: registry, synthetic images, cluster and A/B workloads, and the exports.

Everything here is composition; the components decide how. Registry work and the cluster only share
the resource group, so `pulumi up` runs them side by side (see docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi_azure_native import authorization

from components.cluster import StreamingCluster, StreamingClusterArgs
from components.images import PublishedImage
from components.registry import AutoConversion, AutoConversionArgs, StreamingRegistry, StreamingRegistryArgs
from components.synthetic_images import SyntheticImages, SyntheticImagesArgs
from components.workloads import ABWorkloads, ABWorkloadsArgs
from stackconfig.model import StackConfig


def build(config: StackConfig, stack_name: str | None = None) -> dict[str, Any]:
    """Declare the stack for `config`; returns the stack outputs (names are a contract)."""
    stack_name = stack_name or pulumi.get_stack()
    # The same identity azure-native uses: the dynamic providers act on this subscription and tenant.
    client = authorization.get_client_config_output()

    registry = StreamingRegistry(
        "registry",
        StreamingRegistryArgs(
            location=config.location,
            name_prefix=config.name_prefix,
            registry=config.registry,
            images=config.images,
            timeouts=config.timeouts,
            subscription_id=client.subscription_id,
            tenant_id=client.tenant_id,
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
                subscription_id=client.subscription_id,
                tenant_id=client.tenant_id,
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
                subscription_id=client.subscription_id,
                tenant_id=client.tenant_id,
                previous_parent=registry,
            ),
        )

    cluster = StreamingCluster(
        "cluster",
        StreamingClusterArgs(
            location=config.location,
            name_prefix=config.name_prefix,
            resource_group_name=registry.resource_group_name,
            cluster=config.cluster,
            pools=config.pools,
            cache_generation=config.cache_generation,
            timeouts=config.timeouts,
            registry_id=registry.registry_id,
            registry_name=registry.registry_name,
            subscription_id=client.subscription_id,
            tenant_id=client.tenant_id,
        ),
    )

    workloads = ABWorkloads(
        "workloads",
        ABWorkloadsArgs(
            workloads=config.workloads,
            pools=config.pools,
            namespace=config.workload_namespace,
            images=images,
            load_balancer_source_ranges=config.load_balancer_source_ranges,
            public_endpoints=config.public_endpoints,
            kubeconfig=cluster.kubeconfig,
            pool_resources=cluster.pool_resources,
            stack_name=stack_name,
            image_pull_secret_dockerconfigjson=cluster.image_pull_secret_dockerconfigjson,
        ),
    )

    return {
        "registryLoginServer": registry.login_server,
        "clusterName": cluster.cluster_name,
        # `timing` reads the pools' artifact-streaming flag back from ARM through this id.
        "clusterId": cluster.managed_cluster.id,
        "resourceGroupName": registry.resource_group_name,
        "kubeconfig": pulumi.Output.secret(cluster.kubeconfig),
        "oidcIssuerUrl": cluster.oidc_issuer_url,
        "images": pulumi.Output.all(**{name: image.summary() for name, image in images.items()}),
        "pools": cluster.pools_summary,
        "endpoints": workloads.endpoints,
        "timingReaders": workloads.timing_readers,
    }
