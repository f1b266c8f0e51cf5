"""NetworkPolicies of the workload namespace: deny everything, then allow exactly what the workloads need.

What they need: an azure-vote front talks to its own arm's redis (and to cluster DNS to find it by
Service name); a front exposed as a LoadBalancer takes connections from the configured source ranges;
a custom container gets what its `container.network` says, and its port takes the namespace's pods.
Synthetic images and single workloads talk to no one. Enforced by the cluster's Cilium dataplane
(cluster.networkPolicy); kubelet probes and `kubectl port-forward` come from the node itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.manifests import (
    BACK,
    FRONT,
    REDIS_PORT,
    back_name,
    front_name,
    front_service_type,
    selector_labels,
    single_name,
)
from contract import LABEL_PART_OF, PART_OF_VALUE
from stackconfig.fields import INTERNET
from stackconfig.model import ArmConfig, WorkloadConfig

DEFAULT_DENY = "default-deny"
# Cluster DNS on AKS: CoreDNS pods labelled k8s-app=kube-dns in kube-system.
DNS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


def _policy(name: str, namespace_name: Any, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace_name, "labels": {LABEL_PART_OF: PART_OF_VALUE}},
        "spec": spec,
    }


def default_deny(namespace_name: Any) -> dict[str, Any]:
    """Every pod of the namespace: no ingress, no egress, unless another policy allows it."""
    return _policy(DEFAULT_DENY, namespace_name, {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})


def azure_vote_policies(
    arm: ArmConfig,
    namespace_name: Any,
    *,
    load_balancer_source_ranges: Sequence[str] = (),
    public_endpoints: bool = False,
) -> list[dict[str, Any]]:
    """One arm's front -> its own redis (and DNS); the front's own ingress only when it is a LoadBalancer."""
    front, back = selector_labels(arm, FRONT), selector_labels(arm, BACK)
    front_spec: dict[str, Any] = {
        "podSelector": {"matchLabels": front},
        "policyTypes": ["Egress"],
        "egress": [
            {"to": [{"podSelector": {"matchLabels": back}}], "ports": [{"protocol": "TCP", "port": REDIS_PORT}]},
            {"to": [DNS_PEER], "ports": DNS_PORTS},
        ],
    }
    if front_service_type(load_balancer_source_ranges, public_endpoints) == "LoadBalancer":
        ranges = list(load_balancer_source_ranges) or list(INTERNET)
        front_spec["policyTypes"] = ["Ingress", "Egress"]
        front_spec["ingress"] = [
            {"from": [{"ipBlock": {"cidr": cidr}} for cidr in ranges], "ports": [{"protocol": "TCP", "port": "http"}]}
        ]
    back_spec = {
        "podSelector": {"matchLabels": back},
        "policyTypes": ["Ingress"],
        "ingress": [
            {"from": [{"podSelector": {"matchLabels": front}}], "ports": [{"protocol": "TCP", "port": "redis"}]}
        ],
    }
    return [
        _policy(front_name(arm), namespace_name, front_spec),
        _policy(back_name(arm), namespace_name, back_spec),
    ]


def custom_policies(workload: WorkloadConfig, arm: ArmConfig, namespace_name: Any) -> list[dict[str, Any]]:
    """One custom arm: egress as `container.network` says; its port open to the namespace's pods."""
    container = workload.container
    if container is None:
        raise ValueError(f"workload {workload.name!r}: the custom template needs its container")
    network = container.network
    egress: list[dict[str, Any]] = [] if network.mode == "none" else [{"to": [DNS_PEER], "ports": DNS_PORTS}]
    for rule in network.egress:
        allowance: dict[str, Any] = {"to": [{"ipBlock": {"cidr": rule.cidr}}]}
        if rule.ports:
            allowance["ports"] = [{"protocol": rule.protocol, "port": port} for port in rule.ports]
        egress.append(allowance)
    spec: dict[str, Any] = {"podSelector": {"matchLabels": selector_labels(arm, workload.name)}, "policyTypes": []}
    if egress:
        spec["policyTypes"].append("Egress")
        spec["egress"] = egress
    if container.port is not None:
        # Its ClusterIP Service is for the namespace (port-forward and probes need no rule).
        spec["policyTypes"].append("Ingress")
        spec["ingress"] = [{"from": [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": container.port}]}]
    return [_policy(single_name(arm), namespace_name, spec)] if spec["policyTypes"] else []


def namespace_policies(
    workloads: Sequence[WorkloadConfig],
    namespace_name: Any,
    *,
    load_balancer_source_ranges: Sequence[str] = (),
    public_endpoints: bool = False,
) -> list[dict[str, Any]]:
    """The default deny, then the allowances of every azure-vote and custom arm."""
    policies = [default_deny(namespace_name)]
    for workload in workloads:
        if workload.template == "custom":
            for arm in workload.arms:
                policies += custom_policies(workload, arm, namespace_name)
        if workload.template != "azure-vote":
            continue
        for arm in workload.arms:
            policies += azure_vote_policies(
                arm,
                namespace_name,
                load_balancer_source_ranges=load_balancer_source_ranges,
                public_endpoints=public_endpoints,
            )
    return policies
