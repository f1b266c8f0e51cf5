"""The workload namespace's NetworkPolicies: valid objects (kubernetes-validate) that allow exactly the
azure-vote front -> its own redis, DNS for the front, a LoadBalancer front's source ranges, and a
custom container's `container.network` (DNS by default) and port.

`allowed` reads the policies the way NetworkPolicy semantics define them (a pod selected by any policy
of a direction is isolated in it; a connection needs an allowing rule on both ends); no cluster runs.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import kubernetes_validate
import pytest

from components import manifests, network_policies
from stackconfig.errors import ConfigError
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
        return cidr is not None and _block_admits(peer["ipBlock"], ipaddress.ip_network(cidr))
    if labels is None:
        return False
    if "namespaceSelector" in peer:
        ns_labels = {"kubernetes.io/metadata.name": namespace}
        return _selects(peer["namespaceSelector"], ns_labels) and _selects(peer.get("podSelector", {}), labels)
    return namespace == NAMESPACE and _selects(peer["podSelector"], labels)


def _block_admits(block: dict[str, Any], client: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    """An ipBlock admits every address of `client` when its cidr contains them all and no `except` does."""

    def contains(cidr: str) -> bool:
        network = ipaddress.ip_network(cidr)
        return network.version == client.version and client.subnet_of(network)  # type: ignore[arg-type]

    def overlaps(cidr: str) -> bool:
        network = ipaddress.ip_network(cidr)
        return network.version == client.version and client.overlaps(network)

    return contains(block["cidr"]) and not any(overlaps(cidr) for cidr in block.get("except") or [])


def _side_allows(found, labels, direction, key, peer_labels, peer_namespace, cidr, port) -> bool:
    isolating = [
        p for p in found if _selects(p["spec"]["podSelector"], labels) and direction in p["spec"]["policyTypes"]
    ]
    if not isolating:
        return True
    for policy in isolating:
        for rule in policy["spec"].get(direction.lower()) or []:
            # A rule without peers admits every peer, one without ports every port.
            peers = rule.get(key)
            peer_ok = not peers or any(_peer_matches(peer, peer_labels, peer_namespace, cidr) for peer in peers)
            ports = rule.get("ports")
            if peer_ok and (not ports or any(p["port"] in port for p in ports)):
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


def custom(network: dict[str, Any] | None = None, port: int | None = 8080) -> StackConfig:
    container: dict[str, Any] = {"port": port} if port else {"appReadyLog": "ready"}
    if network is not None:
        container["network"] = network
    workload = {
        "name": "mine",
        "template": "custom",
        "image": "myapp",
        "container": container,
        "arms": [{"pool": "teleporter"}, {"pool": "shuttle"}],
    }
    return teleport(
        images=[{"name": "myapp", "target": "myapp:1", "existing": True}],
        syntheticImages=[],
        activeWorkloads=["mine"],
        workloads=[workload],
    )


EGRESS = {"mode": "egress", "egress": [{"cidr": "203.0.113.0/24", "ports": [443]}, {"cidr": "198.51.100.9/32"}]}


def test_every_policy_validates():
    configs = [teleport(), teleport(loadBalancerSourceRanges=["203.0.113.0/24"]), teleport(publicEndpoints=True)]
    configs += [custom(), custom({"mode": "none"}, port=None), custom(EGRESS)]
    for config in configs:
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
    "overrides, admitted, refused",
    [
        (
            {"loadBalancerSourceRanges": ["203.0.113.0/24"]},
            ["203.0.113.0/24", "203.0.113.77/32"],
            ["198.51.100.7/32", "203.0.112.0/23", "0.0.0.0/0", "2001:db8::1/128"],
        ),
        # The whole internet, both families: any client address at all.
        ({"publicEndpoints": True}, ["198.51.100.7/32", "203.0.113.0/24", "2001:db8::1/128"], []),
    ],
)
def test_a_load_balancer_front_takes_its_source_ranges_only(overrides, admitted, refused):
    """Client addresses are matched by containment in the ipBlock (as the dataplane does), not by text."""
    found = policies(teleport(**overrides))
    front = pod("vote-teleporter", manifests.FRONT)
    for cidr in admitted:
        assert allowed(found, None, front, HTTP, cidr=cidr), cidr
    for cidr in refused:
        assert not allowed(found, None, front, HTTP, cidr=cidr), cidr
    assert not allowed(found, None, pod("vote-teleporter", manifests.BACK), REDIS, cidr=admitted[0])
    assert not allowed(found, None, pod("vote-teleporter", manifests.BACK), REDIS, cidr="198.51.100.7/32")


MINE = pod("mine-teleporter", "mine")
OTHER_ARM = pod("mine-shuttle", "mine")
OUTSIDE = ("203.0.113.7/32", "198.51.100.9/32", "0.0.0.0/0")


def reaches_outside(found, source, cidr: str, port: tuple) -> bool:
    """Egress from `source` to an address outside the cluster (the destination has no policy of ours)."""
    return _side_allows(found, source, "Egress", "to", None, NAMESPACE, cidr, port)


def test_a_custom_container_resolves_names_by_default_and_reaches_nothing_else():
    found = policies(custom())
    assert allowed(found, MINE, DNS, (53,), target_ns="kube-system")
    assert not allowed(found, MINE, OTHER_ARM, (8080, "main"))
    assert not any(reaches_outside(found, MINE, cidr, (443,)) for cidr in OUTSIDE)
    # Its port takes the namespace's pods (as far as their own egress lets them), nothing from outside.
    assert _side_allows(found, MINE, "Ingress", "from", OTHER_ARM, NAMESPACE, None, (8080,))
    assert not _side_allows(found, MINE, "Ingress", "from", OTHER_ARM, NAMESPACE, None, (9090,))
    assert not _side_allows(found, MINE, "Ingress", "from", None, NAMESPACE, "203.0.113.7/32", (8080,))


def test_a_custom_container_without_network_gets_no_connection():
    found = policies(custom({"mode": "none"}, port=None))
    assert not allowed(found, MINE, DNS, (53,), target_ns="kube-system")
    assert not any(reaches_outside(found, MINE, cidr, (443,)) for cidr in OUTSIDE)
    assert [p["metadata"]["name"] for p in found] == [network_policies.DEFAULT_DENY]


def test_a_custom_container_reaches_its_egress_destinations_and_dns():
    found = policies(custom(EGRESS))
    assert allowed(found, MINE, DNS, (53,), target_ns="kube-system")
    assert reaches_outside(found, MINE, "203.0.113.7/32", (443,))
    assert not reaches_outside(found, MINE, "203.0.113.7/32", (80,))
    assert reaches_outside(found, MINE, "198.51.100.9/32", (80,))  # no ports: every port
    assert not reaches_outside(found, MINE, "198.51.100.10/32", (80,))
    assert not reaches_outside(found, MINE, "0.0.0.0/0", (443,))


@pytest.mark.parametrize(
    "network, message",
    [
        ({"mode": "egress"}, r"network.egress: mode egress without destinations"),
        ({"egress": [{"cidr": "203.0.113.0/24"}]}, r"network.egress: mode dns takes no destinations"),
        ({"mode": "egress", "egress": [{"cidr": "example.com"}]}, r"network.egress\[0\].cidr: 'example.com' is not"),
        ({"mode": "open"}, r"network.mode"),
    ],
)
def test_container_network_says_what_is_wrong(network, message):
    with pytest.raises(ConfigError, match=message):
        custom(network)
