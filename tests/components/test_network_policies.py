"""The workload namespace's NetworkPolicies: valid objects (kubernetes-validate) that allow exactly the
azure-vote front -> its own redis, DNS for the front, and a LoadBalancer front's source ranges.

`allowed` reads the policies the way NetworkPolicy semantics define them (a pod selected by any policy
of a direction is isolated in it; a connection needs an allowing rule on both ends); no cluster runs.
"""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from components import manifests, network_policies
from stackconfig.model import StackConfig
from stacks.config import parse_stack_config

NAMESPACE = "streaming-ab"
DNS = {"k8s-app": "kube-dns"}


def teleport(**overrides: Any) -> StackConfig:
    return parse_stack_config({"location": "westus3", "scenario": "teleport-ab", **overrides})


def policies(config: StackConfig) -> list[dict[str, Any]]:
    return network_policies.namespace_policies(
        config.workloads,
        NAMESPACE,
        load_balancer_source_ranges=config.load_balancer_source_ranges,
        public_endpoints=config.public_endpoints,
    )


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def _peer_matches(peer: dict[str, Any], labels: dict[str, str] | None, namespace: str, cidr: str | None) -> bool:
    if "ipBlock" in peer:
        return cidr is not None and peer["ipBlock"]["cidr"] == cidr
    if labels is None:
        return False
    if "namespaceSelector" in peer:
        ns_labels = {"kubernetes.io/metadata.name": namespace}
        return _selects(peer["namespaceSelector"], ns_labels) and _selects(peer.get("podSelector", {}), labels)
    return namespace == NAMESPACE and _selects(peer["podSelector"], labels)


def _side_allows(found, labels, direction, key, peer_labels, peer_namespace, cidr, port) -> bool:
    isolating = [
        p for p in found if _selects(p["spec"]["podSelector"], labels) and direction in p["spec"]["policyTypes"]
    ]
    if not isolating:
        return True
    for policy in isolating:
        for rule in policy["spec"].get(direction.lower()) or []:
            peers = rule.get(key) or []
            peer_ok = any(_peer_matches(peer, peer_labels, peer_namespace, cidr) for peer in peers)
            if peer_ok and any(p["port"] in port for p in rule.get("ports") or []):
                return True
    return False


def allowed(
    found, source: dict[str, str] | None, target: dict[str, str], port: tuple, *, cidr=None, target_ns=NAMESPACE
):
    """A connection from `source` pod (or from `cidr` outside) to `target` on `port` (number, name)."""
    egress_ok = source is None or _side_allows(found, source, "Egress", "to", target, target_ns, None, port)
    if target_ns != NAMESPACE:
        return egress_ok  # the other namespace's own policies are not ours
    return egress_ok and _side_allows(found, target, "Ingress", "from", source, NAMESPACE, cidr, port)


def pod(arm: str, component: str) -> dict[str, str]:
    return {"streaming-ab/arm": arm, "app.kubernetes.io/name": component}


REDIS = (manifests.REDIS_PORT, "redis")
HTTP = (80, "http")


def test_every_policy_validates():
    for config in (teleport(), teleport(loadBalancerSourceRanges=["203.0.113.0/24"]), teleport(publicEndpoints=True)):
        for policy in policies(config):
            kubernetes_validate.validate(policy, "1.33.0", strict=True)


def test_front_reaches_its_own_redis_and_dns_and_nothing_else():
    found = policies(teleport())
    front, back = pod("vote-teleporter", manifests.FRONT), pod("vote-teleporter", manifests.BACK)
    assert allowed(found, front, back, REDIS)
    assert allowed(found, front, DNS, (53,), target_ns="kube-system")
    assert not allowed(found, front, pod("vote-shuttle", manifests.BACK), REDIS)  # another arm's redis
    assert not allowed(found, back, front, HTTP)
    assert not allowed(found, front, back, HTTP)
    assert not allowed(found, pod("vote-shuttle", manifests.FRONT), back, REDIS)
    assert not allowed(found, None, front, HTTP, cidr="0.0.0.0/0")  # ClusterIP: reached by port-forward only
    single = {"streaming-ab/arm": "big-fastart", "app.kubernetes.io/name": "big"}
    assert not allowed(found, single, back, REDIS) and not allowed(found, single, DNS, (53,), target_ns="kube-system")


@pytest.mark.parametrize(
    "overrides, sources",
    [
        ({"loadBalancerSourceRanges": ["203.0.113.0/24"]}, ["203.0.113.0/24"]),
        ({"publicEndpoints": True}, ["0.0.0.0/0", "::/0"]),
    ],
)
def test_a_load_balancer_front_takes_its_source_ranges_only(overrides, sources):
    found = policies(teleport(**overrides))
    front = pod("vote-teleporter", manifests.FRONT)
    for cidr in sources:
        assert allowed(found, None, front, HTTP, cidr=cidr)
    assert not allowed(found, None, front, HTTP, cidr="198.51.100.0/24")
    assert not allowed(found, None, pod("vote-teleporter", manifests.BACK), REDIS, cidr=sources[0])
