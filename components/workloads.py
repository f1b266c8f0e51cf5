"""`ABWorkloads`: the A/B Deployments and Services, one set per arm, on the cluster's own provider.

Design notes: docs/providers.md ("components/workloads.py").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi import Input, Output, ResourceOptions

from components import manifests, network_policies
from components.images import PublishedImage, image_traits
from components.pull_check import pull_check_job
from contract import LABEL_ARM
from stackconfig.model import PoolConfig, WorkloadConfig

TYPE = "acr-streaming-ab:workloads:ABWorkloads"


@dataclass
class ABWorkloadsArgs:
    workloads: tuple[WorkloadConfig, ...]
    pools: tuple[PoolConfig, ...]
    namespace: str
    images: dict[str, PublishedImage]
    load_balancer_source_ranges: tuple[str, ...]
    kubeconfig: Input[str]
    pool_resources: Mapping[str, pulumi.Resource]
    stack_name: str
    # What the pull-check Job of every unparked pool runs (cluster.pullCheckImage), and its bound.
    pull_check_image: PublishedImage
    pull_check_minutes: int
    image_pull_secret_dockerconfigjson: Input[str] | None = None
    public_endpoints: bool = False
    # The AcrPull role assignment when the stack declares it (pullMode attach, acrPull assign).
    acr_pull: pulumi.Resource | None = None
    # False when the cluster has no engine to enforce them (cluster.networkPolicy none): none declared.
    network_policies: bool = True


def timing_command(stack_name: str, namespace: str, arm_name: str) -> str:
    return f"venv/bin/python -m timing report --stack {stack_name} --namespace {namespace} --selector {LABEL_ARM}={arm_name}"


def endpoint_from_status(status: Any) -> str | None:
    """`http://<address>` of a LoadBalancer Service status, or None while it has no address."""
    if status is None:
        return None
    load_balancer = _field(status, "load_balancer", "loadBalancer")
    ingress = _field(load_balancer, "ingress", "ingress") if load_balancer is not None else None
    for entry in ingress or []:
        address = _field(entry, "ip", "ip") or _field(entry, "hostname", "hostname")
        if address:
            return f"http://{address}"
    return None


def _field(value: Any, attribute: str, key: str) -> Any:
    # Typed output objects of pulumi-kubernetes (dict subclasses read through property getters), or
    # plain dicts where a value was built by hand.
    if isinstance(getattr(type(value), attribute, None), property):
        return getattr(value, attribute)
    if isinstance(value, dict):
        return value.get(key)
    return getattr(value, attribute, None)


class ABWorkloads(pulumi.ComponentResource):
    endpoints: Output[dict]
    timing_readers: Output[dict]

    def __init__(self, name: str, args: ABWorkloadsArgs, opts: ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        pools = {pool.name: pool for pool in args.pools}
        _check_args(args, pools)

        self.provider = k8s.Provider(f"{name}-k8s", kubeconfig=args.kubeconfig, opts=ResourceOptions(parent=self))
        on_cluster = ResourceOptions(parent=self, provider=self.provider)

        namespace_object = manifests.namespace(args.namespace)
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata=namespace_object["metadata"], opts=on_cluster
        )
        # Every object names the namespace through this Output, so each waits for the Namespace.
        namespace_name: Output[str] = self.namespace.metadata.apply(lambda meta: _field(meta, "name", "name"))

        self.pull_secret: k8s.core.v1.Secret | None = None
        if args.image_pull_secret_dockerconfigjson is not None:
            secret = manifests.pull_secret(namespace_name, Output.secret(args.image_pull_secret_dockerconfigjson))
            self.pull_secret = k8s.core.v1.Secret(
                f"{name}-{manifests.PULL_SECRET_NAME}",
                metadata=secret["metadata"],
                type=secret["type"],
                string_data=secret["stringData"],
                opts=on_cluster,
            )
        self.pull_checks = self._pull_checks(name, args, namespace_name, on_cluster)

        self.network_policies = self._network_policies(name, args, namespace_name, on_cluster)

        self.deployments: dict[str, k8s.apps.v1.Deployment] = {}
        self.services: dict[str, k8s.core.v1.Service] = {}
        endpoints: dict[str, Output[str | None]] = {}
        readers: dict[str, Output[dict]] = {}
        for workload in args.workloads:
            main = args.images[workload.image]
            backend = args.images[workload.backend_image] if workload.backend_image else None
            # One Output per workload, shared by all its arms: the same reference everywhere.
            images = manifests.ArmImages(
                main=main.reference(workload.image_reference),
                backend=backend.reference(workload.image_reference) if backend else None,
                app_port=main.app_port,
                startup_read_mb=main.startup_read_mb,
                main_security=_main_security(workload, main),
                backend_security=backend.security_profile if backend else "unknown",
            )
            # All pools of all arms plus every image's readiness: identical for each Deployment of the
            # workload, so no arm can be created before another.
            waits_for: list[pulumi.Resource] = [args.pool_resources[p] for p in sorted({a.pool for a in workload.arms})]
            waits_for += [*main.ready, *(backend.ready if backend else [])]
            if self.pull_secret is not None:
                waits_for.append(self.pull_secret)
            # No pod starts before the policies that let it work (a front without its allowance to
            # redis would not get ready, and the trial would time that).
            waits_for += self.network_policies
            # No first rollout before the kubelet can pull: AcrPull, and the check on every pool of the workload.
            waits_for += [args.acr_pull] if args.acr_pull is not None else []
            waits_for += [self.pull_checks[p] for p in sorted({a.pool for a in workload.arms}) if p in self.pull_checks]
            for arm in workload.arms:
                objects = manifests.arm_objects(
                    workload,
                    arm,
                    pools[arm.pool],
                    namespace_name=namespace_name,
                    images=images,
                    load_balancer_source_ranges=args.load_balancer_source_ranges,
                    use_pull_secret=self.pull_secret is not None,
                    public_endpoints=args.public_endpoints,
                )
                for obj in objects:
                    object_name = obj["metadata"]["name"]
                    if obj["kind"] == "Deployment":
                        self.deployments[object_name] = k8s.apps.v1.Deployment(
                            f"{name}-{object_name}",
                            metadata=obj["metadata"],
                            spec=obj["spec"],
                            opts=ResourceOptions.merge(on_cluster, ResourceOptions(depends_on=waits_for)),
                        )
                    else:
                        # Services pull nothing: they only wait for the Namespace.
                        self.services[object_name] = k8s.core.v1.Service(
                            f"{name}-{object_name}", metadata=obj["metadata"], spec=obj["spec"], opts=on_cluster
                        )
                if manifests.has_load_balancer(workload):
                    front_service = self.services[manifests.front_name(arm)]
                    if manifests.front_service_type(args.load_balancer_source_ranges, args.public_endpoints) == (
                        "LoadBalancer"
                    ):
                        endpoints[arm.name] = front_service.status.apply(endpoint_from_status)
                    else:
                        # Not reachable from outside by default: the command that reaches it.
                        endpoints[arm.name] = Output.from_input(manifests.port_forward_command(args.namespace, arm))
                readers[arm.name] = images.main.apply(
                    lambda image, arm=arm: {
                        "namespace": args.namespace,
                        "selector": manifests.arm_selector(arm),
                        "pool": arm.pool,
                        "streaming": arm.streaming,
                        "image": image,
                        "command": timing_command(args.stack_name, args.namespace, arm.name),
                    }
                )

        self.endpoints = Output.all(**endpoints) if endpoints else Output.from_input({})
        self.timing_readers = Output.all(**readers) if readers else Output.from_input({})
        self.register_outputs({"endpoints": self.endpoints, "timingReaders": self.timing_readers})

    def _pull_checks(
        self, name: str, args: ABWorkloadsArgs, namespace_name: Output[str], on_cluster: ResourceOptions
    ) -> dict[str, k8s.batch.v1.Job]:
        """One pull-check Job per unparked pool (a parked pool has no node to pull on; it gets its Job when
        unparked), each after its pool, the check image, AcrPull and the pull secret."""
        image = args.pull_check_image
        deadline = args.pull_check_minutes * 60
        checks: dict[str, k8s.batch.v1.Job] = {}
        for pool in args.pools:
            if pool.count == 0:
                continue
            job = pull_check_job(
                pool,
                namespace_name=namespace_name,
                # By digest: the check pulls exactly the image the registry stack recorded.
                image=image.reference("digest"),
                deadline_seconds=deadline,
                use_pull_secret=self.pull_secret is not None,
            )
            waits = [args.pool_resources[pool.name], *image.ready]
            waits += [r for r in (args.acr_pull, self.pull_secret) if r is not None]
            # Kubernetes fails the Job at its deadline; Pulumi waits a little longer so that it reports that.
            timeout = f"{args.pull_check_minutes + 2}m"
            checks[pool.name] = k8s.batch.v1.Job(
                f"{name}-{job['metadata']['name']}",
                metadata=job["metadata"],
                spec=job["spec"],
                opts=ResourceOptions.merge(
                    on_cluster,
                    ResourceOptions(
                        depends_on=waits, custom_timeouts=pulumi.CustomTimeouts(create=timeout, update=timeout)
                    ),
                ),
            )
        return checks

    @staticmethod
    def _network_policies(
        name: str, args: ABWorkloadsArgs, namespace_name: Output[str], on_cluster: ResourceOptions
    ) -> list[k8s.networking.v1.NetworkPolicy]:
        """Default deny in the namespace plus what each workload needs (components/network_policies.py).

        None without an engine: objects nothing enforces would show a confinement the namespace lacks.
        """
        if not args.network_policies:
            pulumi.log.warn(
                f"namespace {args.namespace}: no NetworkPolicies (cluster.networkPolicy none), so every pod "
                "may connect anywhere and container.network has no effect",
            )
            return []
        policies = network_policies.namespace_policies(
            args.workloads,
            namespace_name,
            load_balancer_source_ranges=args.load_balancer_source_ranges,
            public_endpoints=args.public_endpoints,
        )
        return [
            k8s.networking.v1.NetworkPolicy(
                f"{name}-netpol-{policy['metadata']['name']}",
                metadata=policy["metadata"],
                spec=policy["spec"],
                opts=on_cluster,
            )
            for policy in policies
        ]


def _main_security(workload: WorkloadConfig, main: PublishedImage) -> str:
    """A custom workload's container decides its confinement (the one rule: image_traits); else the image."""
    if workload.container is not None:
        return image_traits(None, {}, workload.container).security_profile
    return main.security_profile


def _check_args(args: ABWorkloadsArgs, pools: dict[str, PoolConfig]) -> None:
    """Wiring mistakes of the composition (config itself is validated in stackconfig/model.py)."""
    problems = []
    for workload in args.workloads:
        for image in filter(None, (workload.image, workload.backend_image)):
            if image not in args.images:
                problems.append(
                    f"workload {workload.name!r}: image {image!r} was not published "
                    f"(have: {', '.join(sorted(args.images)) or 'none'})"
                )
        for arm in workload.arms:
            if arm.pool not in pools:
                problems.append(f"arm {arm.name!r}: pool {arm.pool!r} is not among the configured pools")
            if arm.pool not in args.pool_resources:
                problems.append(f"arm {arm.name!r}: no pool resource for {arm.pool!r} to wait for")
    for name in sorted(p for p, pool in pools.items() if pool.count and p not in args.pool_resources):
        problems.append(f"pool {name!r}: no pool resource for its pull check to wait for")
    if problems:
        raise ValueError("ABWorkloads cannot be declared: " + "; ".join(problems))
