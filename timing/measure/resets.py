"""Cache resets between trials: none (warm), recycle the pools (`pulumi up`), or purge the nodes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from contract import (
    LABEL_POOL,
)
from timing.measure.discovery import ResetError
from timing.measure.purge import DEFAULT_PURGE_IMAGE, PURGE_LABEL, daemonset_manifest, daemonset_name, pod_purge_state


@dataclass
class ResetContext:
    namespace: str
    images: list[str]
    status: Callable[[str], None]


class NoReset:
    """``--warm``: images stay on the nodes on purpose."""

    name = "none"

    def reset(self, ctx: ResetContext) -> dict:
        return {"reset": "none"}


def _node_ready(node: dict) -> bool:
    for c in (node.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


class RecycleReset:
    """Bump ``cacheGeneration`` and ``pulumi up``: every experiment pool goes to 0 and back."""

    name = "recycle"

    def __init__(
        self, stack, cluster, clock, timeout: float, poll: float, on_output: Callable[[str], None] = lambda s: None
    ):
        self.stack, self.cluster, self.clock = stack, cluster, clock
        self.timeout, self.poll, self.on_output = timeout, poll, on_output

    def reset(self, ctx: ResetContext) -> dict:
        before = self.cluster.list_nodes(LABEL_POOL)
        old_uids = {(n.get("metadata") or {}).get("uid") for n in before}
        generation = self.stack.get_generation() + 1
        ctx.status(f"recycling node pools (cacheGeneration={generation}, pulumi up)")
        self.stack.set_generation(generation)
        self.stack.up(on_output=self.on_output)
        deadline = self.clock.monotonic() + self.timeout
        while True:
            nodes = self.cluster.list_nodes(LABEL_POOL)
            stale = [n for n in nodes if (n.get("metadata") or {}).get("uid") in old_uids]
            ready = [n for n in nodes if _node_ready(n)]
            if nodes and not stale and len(ready) == len(nodes) and len(nodes) >= len(before):
                break
            if self.clock.monotonic() >= deadline:
                raise ResetError(
                    f"after pulumi up: {len(stale)} old node(s) still present, {len(ready)}/{len(nodes)} Ready "
                    f"(expected {len(before)} fresh nodes)"
                )
            ctx.status(f"waiting for fresh nodes: {len(ready)}/{max(len(before), len(nodes))} Ready, {len(stale)} old")
            self.clock.sleep(self.poll)
        return {
            "reset": "recycle",
            "cache_generation": generation,
            "nodes_before": sorted((n.get("metadata") or {}).get("name") for n in before),
            "nodes_after": sorted((n.get("metadata") or {}).get("name") for n in nodes),
        }


class PurgeReset:
    """Privileged DaemonSet on the experiment pools that removes the images, then exits."""

    name = "purge"

    def __init__(
        self,
        cluster,
        clock,
        timeout: float,
        poll: float,
        image: str | None = None,
        id_factory: Callable[[], str] = lambda: uuid.uuid4().hex[:8],
    ):
        self.cluster, self.clock = cluster, clock
        self.timeout, self.poll = timeout, poll
        self.image = image or DEFAULT_PURGE_IMAGE
        self.id_factory = id_factory

    def reset(self, ctx: ResetContext) -> dict:
        run_id = self.id_factory()
        name = daemonset_name(run_id)
        nodes = sorted(str((n.get("metadata") or {}).get("name")) for n in self.cluster.list_nodes(LABEL_POOL))
        if not nodes:
            raise ResetError(f"no nodes carry the {LABEL_POOL} label")
        self.cluster.create_daemonset(ctx.namespace, daemonset_manifest(run_id, ctx.namespace, ctx.images, self.image))
        try:
            deadline = self.clock.monotonic() + self.timeout
            while True:
                pods = self.cluster.list_pods(ctx.namespace, f"{PURGE_LABEL}={run_id}")
                states = {str((p.get("spec") or {}).get("nodeName")): pod_purge_state(p) for p in pods}
                failed = sorted(n for n, s in states.items() if s == "failed")
                if failed:
                    raise ResetError(f"purge failed on node(s) {', '.join(failed)} (see the purge pod logs)")
                done = sorted(n for n, s in states.items() if s == "done")
                if set(nodes) <= set(done):
                    break
                if self.clock.monotonic() >= deadline:
                    waiting = sorted(set(nodes) - set(done))
                    raise ResetError(f"purge not finished on {', '.join(waiting)} within {self.timeout:.0f} s")
                ctx.status(f"purging images: {len(done)}/{len(nodes)} nodes done")
                self.clock.sleep(self.poll)
        finally:
            self.cluster.delete_daemonset(ctx.namespace, name)
        return {"reset": "purge", "daemonset": name, "nodes": nodes, "images": sorted(ctx.images)}
