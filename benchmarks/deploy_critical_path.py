"""Modelled critical path of a first `pulumi up`, from the program's real dependency graph.

Design notes: docs/operations.md ("benchmarks/deploy_critical_path.py").
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

import yaml  # noqa: E402

from stackconfig.model import StackConfig  # noqa: E402
from stacks.config import parse_stack_config  # noqa: E402

PROJECT = "acr-streaming-ab"
POOL_TYPE = "pulumi-python:dynamic/aks:ExperimentPool"
CLUSTER_TYPE = "azure-native:containerservice:ManagedCluster"
GROUP_TYPE = "azure-native:resources:ResourceGroup"

# Sizes (GB, uncompressed) of imported images whose size the seeds state; others are assumed.
KNOWN_IMAGE_GB = {
    "mcr.microsoft.com/azuredocs/azure-vote-front:v1": 0.944,  # seed 000: 944 MB, 28 layers
    "docker.io/library/alpine:3.20": 0.008,  # alpine rootfs, a few MB
}
ASSUMED_IMAGE_GB = 0.5


@dataclass(frozen=True)
class Model:
    seconds: Callable[[dict[str, Any], StackConfig], float]
    source: str


def _const(seconds: float) -> Callable[[dict[str, Any], StackConfig], float]:
    return lambda _inputs, _config: seconds


def _import_seconds(inputs: dict[str, Any], _config: StackConfig) -> float:
    return 20 + 60 * KNOWN_IMAGE_GB.get(str(inputs.get("source")), ASSUMED_IMAGE_GB)


def _synthetic(config: StackConfig, target: str | None, repository: str | None):
    for image in config.synthetic_images:
        if image.target == target or image.repository == repository:
            return image
    return None


def _build_seconds(inputs: dict[str, Any], config: StackConfig) -> float:
    image = _synthetic(config, inputs.get("target"), None)
    if image is None or image.size_mb is None:
        # A squashed copy of an imported image: pull + flatten + push of about its size.
        return 90 + 60 * ASSUMED_IMAGE_GB
    gb = image.size_mb / 1000
    # Zero fill compresses to almost nothing (writing it dominates); random fill is pushed as is.
    return 90 + (15 if image.fill == "zero" else 60) * gb


def _conversion_seconds(inputs: dict[str, Any], config: StackConfig) -> float:
    repository = inputs.get("repository")
    image = _synthetic(config, None, repository)
    if image is not None and image.size_mb is not None:
        gb = image.size_mb / 1000
    else:
        source = next((i.source for i in config.images if i.repository == repository), None)
        gb = KNOWN_IMAGE_GB.get(str(source), ASSUMED_IMAGE_GB)
    return 60 + 60 * gb


def _service_seconds(inputs: dict[str, Any], _config: StackConfig) -> float:
    return 60 if (inputs.get("spec") or {}).get("type") == "LoadBalancer" else 2


MODEL: dict[str, Model] = {
    "azure-native:resources:ResourceGroup": Model(_const(5), "synchronous ARM PUT"),
    "random:index/randomString:RandomString": Model(_const(0), "local to the engine"),
    "azure-native:containerregistry:Registry": Model(
        _const(60),
        "recorded Premium create "
        "(test_acr_artifact_streaming.yaml#0-2: 201, polled Creating -> Succeeded); ~1 min assumed",
    ),
    CLUSTER_TYPE: Model(_const(360), "assumed: ~6 min for a cluster with its system pool (typical AKS create)"),
    POOL_TYPE: Model(_const(240), "assumed: ~4 min per agent pool (one node; seed 004 adds four in a row)"),
    "azure-native:authorization:RoleAssignment": Model(_const(15), "synchronous ARM PUT (assumed 15 s)"),
    "pulumi-python:dynamic/acr:TokenCredentials": Model(_const(5), "one ARM POST action (assumed)"),
    "azure-native:containerregistry:Token": Model(_const(10), "ARM PUT (assumed)"),
    "pulumi-python:dynamic/acr:ImportedImage": Model(
        _import_seconds,
        "assumed: ~1 min/GB, +20 s per operation (test_acr_image_import.yaml: 202, one poll to Succeeded)",
    ),
    "pulumi-python:dynamic/acr:AcrBuild": Model(
        _build_seconds,
        "assumed: 90 s task start + 15 s/GB zero fill (written, compresses away) or 60 s/GB random fill (pushed)",
    ),
    "pulumi-python:dynamic/acr:StreamingArtifact": Model(
        _conversion_seconds,
        "assumed: 1 min + 1 min/GB (seed 004: the 5 GiB conversion 'will take another few minutes')",
    ),
    "pulumi-python:dynamic/acr:RepositoryStreaming": Model(_const(5), "one data-plane POST (assumed)"),
    "kubernetes:core/v1:Namespace": Model(_const(2), "API server write"),
    "kubernetes:core/v1:Secret": Model(_const(2), "API server write"),
    "kubernetes:core/v1:Service": Model(
        _service_seconds, "LoadBalancer: public IP + rules, ~1 min (assumed); ClusterIP: API server write"
    ),
    "kubernetes:apps/v1:Deployment": Model(
        _const(65), "rollout waits for Ready: seed 004's slowest pull (64 s, 5 GiB, no streaming, Standard_D2_v5)"
    ),
}
DEFAULT_MODEL = Model(_const(5), "not modelled: 5 s assumed")


@dataclass
class Node:
    urn: str
    type: str
    name: str
    seconds: float
    deps: set[str]


def stack_file_values(stack: str) -> dict[str, Any]:
    raw = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith(PROJECT + ":")}


def evaluate_stack(stack: str, extra: dict[str, Any] | None = None, references: dict | None = None):
    """The stack's declared resources under the test mocks (offline/harness.py)."""
    from offline.harness import evaluate
    from stacks import program

    values = {**stack_file_values(stack), **(extra or {})}
    config = parse_stack_config(values)
    return config, evaluate(lambda: program.build(config, stack), values, stack=stack, stack_references=references)


REGISTRY_REFERENCE = f"organization/{PROJECT}/registry"
# What the three resets cost besides the graph (assumed; docs/operations.md "Three ways to reset").
POOL_SCALE_DOWN_SECONDS = 120  # an agent pool to 0 nodes
PURGE_SECONDS = 60  # DaemonSet scheduled, busybox pulled from the registry, crictl rmi, deleted
DESTROY_SECONDS = 420  # `pulumi destroy` of an experiment stack: the cluster and its resource group


def reset_comparison(stack: str) -> list[dict[str, Any]]:
    """The three ways to empty every node cache, modelled: how long, and what each keeps."""
    config, _ = evaluate_stack(stack)
    pools = [p for p in config.pools if p.count > 0]
    recycle = sum(POOL_SCALE_DOWN_SECONDS + MODEL[POOL_TYPE].seconds({}, config) for _ in pools)
    # An experiment stack's `up` after a teardown: the registry stack's outputs stand in for the registry.
    _, registry = evaluate_stack("registry")
    experiment_config, experiment = evaluate_stack(
        stack, {"registryStack": REGISTRY_REFERENCE}, {REGISTRY_REFERENCE: registry.outputs}
    )
    up = analyse(graph_of(experiment, experiment_config))["critical_path_seconds"]
    return [
        {
            "reset": "purge (measure --reset purge)",
            "seconds": PURGE_SECONDS,
            "keeps": "nodes, cluster, registry; removes the images and overlaybd caches on the nodes",
        },
        {
            "reset": "cacheGeneration (measure --reset recycle)",
            "seconds": recycle,
            "keeps": f"cluster and registry; every pool ({len(pools)}) scaled to 0 and back: fresh nodes",
        },
        {
            "reset": "teardown: destroy + up of an experiment stack",
            "seconds": DESTROY_SECONDS + up,
            "keeps": "the registry stack (images, builds, streaming artifacts); cluster and pools are new",
        },
    ]


def graph_of(evaluation, config: StackConfig) -> dict[str, Node]:
    """Custom resources and what each waits for, with dependencies on components expanded."""
    by_urn = {r.urn: r for r in evaluation.resources}
    children: dict[str, list[str]] = {}
    for r in evaluation.resources:
        children.setdefault(r.parent, []).append(r.urn)

    def expand(urn: str, seen: set[str]) -> set[str]:
        if urn in seen or urn not in by_urn:
            return set()
        seen.add(urn)
        resource = by_urn[urn]
        if resource.custom:
            return {urn}
        found: set[str] = set()
        for child in children.get(urn, []):
            found |= expand(child, seen)
        return found

    nodes: dict[str, Node] = {}
    for r in evaluation.resources:
        if not r.custom or r.type.startswith("pulumi:providers:"):
            continue
        deps: set[str] = set()
        for dep in evaluation.direct_dependencies(r):
            deps |= expand(dep, set())
        deps.discard(r.urn)
        model = MODEL.get(r.type, DEFAULT_MODEL)
        nodes[r.urn] = Node(r.urn, r.type, r.name, float(model.seconds(r.inputs, config)), deps)
    for node in nodes.values():  # provider resources are not modelled: drop edges to them
        node.deps &= set(nodes)
    return nodes


def schedule(nodes: dict[str, Node], dropped: frozenset[tuple[str, str]] = frozenset()):
    """Earliest finish of every node (unlimited parallelism) and each node's latest-finishing dependency."""
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}

    def visit(urn: str, stack: tuple[str, ...] = ()) -> float:
        if urn in finish:
            return finish[urn]
        if urn in stack:
            raise ValueError(f"dependency cycle through {urn}")
        node = nodes[urn]
        start, before = 0.0, None
        for dep in sorted(node.deps):
            if (urn, dep) in dropped:
                continue
            done = visit(dep, stack + (urn,))
            if done > start:
                start, before = done, dep
        finish[urn] = start + node.seconds
        via[urn] = before
        return finish[urn]

    for urn in nodes:
        visit(urn)
    return finish, via


def critical_path(nodes, finish, via) -> list[str]:
    last = max(finish, key=lambda u: (finish[u], u))
    path = [last]
    while via[path[-1]] is not None:
        path.append(via[path[-1]])
    return list(reversed(path))


def analyse(nodes: dict[str, Node]) -> dict[str, Any]:
    finish, via = schedule(nodes)
    path = critical_path(nodes, finish, via)
    pools = {u for u, n in nodes.items() if n.type == POOL_TYPE}
    clusters = {u for u, n in nodes.items() if n.type == CLUSTER_TYPE}

    # The ideal schedule of these resources: a cluster needs nothing but its resource group
    # (docs/ARCHITECTURE.md), so any other edge in front of it is an avoidable wait and is dropped;
    # the pool chain stays, AKS forces it.
    avoidable = frozenset((c, d) for c in clusters for d in nodes[c].deps if nodes[d].type != GROUP_TYPE)
    ideal_finish, _ = schedule(nodes, avoidable)
    pool_edges = frozenset((u, d) for u in pools for d in nodes[u].deps if d in pools)
    parallel_finish, _ = schedule(nodes, avoidable | pool_edges)

    dependents: dict[str, set[str]] = {u: set() for u in nodes}
    for u, n in nodes.items():
        for d in n.deps:
            dependents[d].add(u)
    tail_memo: dict[str, float] = {}

    def tail(u: str) -> float:  # the longest chain of work that waits for u (pools excluded)
        if u not in tail_memo:
            tail_memo[u] = max((nodes[v].seconds + tail(v) for v in dependents[u] if v not in pools), default=0.0)
        return tail_memo[u]

    ancestors_memo: dict[str, frozenset[str]] = {}

    def ancestors(u: str) -> frozenset[str]:
        if u not in ancestors_memo:
            found: set[str] = set()
            for d in nodes[u].deps:
                found |= {d} | ancestors(d)
            ancestors_memo[u] = frozenset(found)
        return ancestors_memo[u]

    pool_seconds = sum(nodes[u].seconds for u in pools)
    # AKS's bound: the pools start once the cluster (and anything else they need) is ready, then run
    # one after the other; after the last one comes the longest work that waits for a pool.
    pools_ready = max(
        (max((ideal_finish[d] for d in nodes[u].deps if d not in pools), default=0.0) for u in pools), default=0.0
    )
    aks_bound = pools_ready + pool_seconds + max((tail(u) for u in pools), default=0.0)
    # Everything that neither is a pool nor waits for one: registry side, cluster, role assignment.
    free = [u for u in nodes if u not in pools and not ancestors(u) & pools]
    free_chain = max((ideal_finish[u] for u in free), default=0.0)
    # The registry side: what does not involve the cluster at all.
    registry_side = [u for u in free if u not in clusters and not ancestors(u) & clusters]
    return {
        "critical_path_seconds": finish[path[-1]],
        "critical_path": [
            {
                "resource": nodes[u].name,
                "type": nodes[u].type,
                "seconds": nodes[u].seconds,
                "start": finish[u] - nodes[u].seconds,
                "finish": finish[u],
            }
            for u in path
        ],
        "ideal_seconds": max(ideal_finish.values(), default=0.0),
        "aks_bound_seconds": aks_bound,
        "cluster_ready_seconds": max((finish[c] for c in clusters), default=0.0),
        "cluster_floor_seconds": max((ideal_finish[c] for c in clusters), default=0.0),
        "pools": len(pools),
        "pool_seconds": pool_seconds,
        "longest_chain_without_pools_seconds": free_chain,
        "registry_chain_seconds": max((finish[u] for u in registry_side), default=0.0),
        "if_pools_were_parallel_seconds": max(parallel_finish.values(), default=0.0),
    }


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(round(seconds % 60)):02d}"


def render(stack: str, result: dict[str, Any], nodes: dict[str, Node]) -> str:
    lines = [f"stack {stack}: {len(nodes)} resources modelled", "", "critical path of `pulumi up` (modelled):"]
    for step in result["critical_path"]:
        lines.append(
            f"  {minutes(step['start']):>6} -> {minutes(step['finish']):>6}  {step['resource']}"
            f"  ({step['type']}, {minutes(step['seconds'])})"
        )
    lines += [
        "",
        f"modelled critical path            {minutes(result['critical_path_seconds'])}",
        f"ideal for this graph              {minutes(result['ideal_seconds'])}  (= the larger of the next two lines)",
        f"  AKS bound (pools one at a time) {minutes(result['aks_bound_seconds'])}"
        f"  (cluster ready {minutes(result['cluster_floor_seconds'])} + {result['pools']} pools x "
        f"{minutes(result['pool_seconds'] / max(result['pools'], 1))} serial + rollout)",
        f"  longest chain without pools     {minutes(result['longest_chain_without_pools_seconds'])}",
        f"cluster ready (declared graph)    {minutes(result['cluster_ready_seconds'])}",
        f"registry side alone               {minutes(result['registry_chain_seconds'])}",
        f"if AKS ran pool ops in parallel   {minutes(result['if_pools_were_parallel_seconds'])}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", default="dev", help="reads Pulumi.<stack>.yaml (default: dev)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--resets", action="store_true", help="compare the three cache resets (purge, cacheGeneration, teardown)"
    )
    args = parser.parse_args(argv)
    if args.resets:
        rows = reset_comparison(args.stack)
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            print(f"stack {args.stack}: resetting every node cache (modelled)")
            for row in rows:
                print(f"  {minutes(row['seconds']):>6}  {row['reset']}: keeps {row['keeps']}")
        return 0
    config, evaluation = evaluate_stack(args.stack)
    nodes = graph_of(evaluation, config)
    result = analyse(nodes)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(render(args.stack, result, nodes))
        print("\nduration model:")
        for type_token in sorted({n.type for n in nodes.values()}):
            print(f"  {type_token}: {MODEL.get(type_token, DEFAULT_MODEL).source}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
