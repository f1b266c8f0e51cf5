"""Cache resets between trials: none (warm), recycle the pools (`pulumi up`), or purge the nodes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from contract import LABEL_POOL
from timing.measure.cleanup import delete_daemonset
from timing.measure.discovery import ResetError
from timing.measure.purge import (
    DEFAULT_PURGE_IMAGE,
    PURGE_LABEL,
    PURGE_NAMESPACE,
    daemonset_manifest,
    daemonset_name,
    namespace_manifest,
    pod_purge_state,
)
from timing.sources.cluster import Clock, Cluster


@dataclass
class ResetContext:
    namespace: str
    images: list[str]
    status: Callable[[str], None]
    pools: list[str] = field(default_factory=list)  # the pools of the measured arms


class Resetter(Protocol):
    """A cache reset between trials; ``close`` removes what it left in the cluster at the end of a run."""

    name: str

    def reset(self, ctx: ResetContext) -> dict: ...

    def close(self) -> None: ...


class GenerationStack(Protocol):
    """The stack ``--reset recycle`` changes (``timing.sources.stack.PulumiStack``)."""

    def get_generation(self) -> int: ...

    def set_generation(self, value: int) -> None: ...

    def up(self, on_output: Callable[[str], None]) -> None: ...


class NoReset:
    """``--warm``: images stay on the nodes on purpose."""

    name = "none"

    def reset(self, ctx: ResetContext) -> dict:
        return {"reset": "none"}

    def close(self) -> None:
        pass


def _node_ready(node: dict) -> bool:
    for c in (node.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


class RecycleReset:
    """Bump ``cacheGeneration`` and ``pulumi up``: every experiment pool goes to 0 and back."""

    name = "recycle"

    def close(self) -> None:
        pass  # nothing of its own is left in the cluster

    def __init__(
        self,
        stack: GenerationStack,
        cluster: Cluster,
        clock: Clock,
        timeout: float,
        poll: float,
        on_output: Callable[[str], None] = lambda s: None,
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
    """Privileged DaemonSet, in its own namespace, on the measured pools: removes the images, then goes.

    The DaemonSet is always deleted, retried a few times; if the purge itself failed, that first
    error is the one raised (the deletion's is added to it). `close` removes the namespace.
    """

    name = "purge"

    def __init__(
        self,
        cluster: Cluster,
        clock: Clock,
        timeout: float,
        poll: float,
        image: str | None = None,
        id_factory: Callable[[], str] = lambda: uuid.uuid4().hex[:8],
    ):
        self.cluster, self.clock = cluster, clock
        self.timeout, self.poll = timeout, poll
        self.image = image or DEFAULT_PURGE_IMAGE
        self.id_factory = id_factory
        self._namespace_ready = False

    def reset(self, ctx: ResetContext) -> dict:
        run_id = self.id_factory()
        name = daemonset_name(run_id)
        selector = f"{LABEL_POOL} in ({','.join(sorted(ctx.pools))})" if ctx.pools else LABEL_POOL
        nodes = sorted(str((n.get("metadata") or {}).get("name")) for n in self.cluster.list_nodes(selector))
        if not nodes:
            raise ResetError(
                f"no nodes carry the {LABEL_POOL} label" + (f" of {', '.join(ctx.pools)}" if ctx.pools else "")
            )
        if not self._namespace_ready:
            self.cluster.create_namespace(namespace_manifest(PURGE_NAMESPACE))
            self._namespace_ready = True
        manifest = daemonset_manifest(run_id, PURGE_NAMESPACE, ctx.images, self.image, pools=ctx.pools)
        self.cluster.create_daemonset(PURGE_NAMESPACE, manifest)
        failure: BaseException | None = None
        try:
            self._wait_done(ctx, run_id, nodes)
        except BaseException as error:  # Ctrl-C included: the DaemonSet must go either way
            failure = error
            raise
        finally:
            delete_daemonset(self.cluster, self.clock, PURGE_NAMESPACE, name, failure, "purge")
        return {
            "reset": "purge",
            "daemonset": name,
            "namespace": PURGE_NAMESPACE,
            "image": self.image,
            "nodes": nodes,
            "images": sorted(ctx.images),
        }

    def _wait_done(self, ctx: ResetContext, run_id: str, nodes: list[str]) -> None:
        deadline = self.clock.monotonic() + self.timeout
        while True:
            pods = self.cluster.list_pods(PURGE_NAMESPACE, f"{PURGE_LABEL}={run_id}")
            states = {str((p.get("spec") or {}).get("nodeName")): pod_purge_state(p) for p in pods}
            failed = sorted(n for n, s in states.items() if s == "failed")
            if failed:
                raise ResetError(f"purge failed on node(s) {', '.join(failed)} (see the purge pod logs)")
            done = sorted(n for n, s in states.items() if s == "done")
            if set(nodes) <= set(done):
                return
            if self.clock.monotonic() >= deadline:
                waiting = sorted(set(nodes) - set(done))
                raise ResetError(f"purge not finished on {', '.join(waiting)} within {self.timeout:.0f} s")
            ctx.status(f"purging images: {len(done)}/{len(nodes)} nodes done")
            self.clock.sleep(self.poll)

    def close(self) -> None:
        """Remove the purge namespace (and anything left in it) at the end of the run."""
        if self._namespace_ready:
            self.cluster.delete_namespace(PURGE_NAMESPACE)
            self._namespace_ready = False
