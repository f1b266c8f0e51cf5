"""``python -m timing measure``: repeated cold-start trials, snapshotted for ``report``.

One trial of a round of workloads:

    scale-down -> wait-gone -> reset -> scale-up -> wait-ready -> snapshot -> verify

Scale-up patches for every Deployment of every arm are issued back to back
so the arms race from the same moment.  Each trial writes
``<results>/<trial id>/{pods.json,events.json,trial.json}``; ``pods.json``
and ``events.json`` have the shape of ``kubectl get ... -o json`` so
``report --pods/--events`` and ``report --results`` read them.  The cold
check uses the same classification as ``report``; a trial with a warm,
failed, unknown or not-Ready pod is kept but flagged, never silently counted.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from . import (
    DEFAULT_NAMESPACE,
    LABEL_ARM,
    LABEL_PAIR,
    LABEL_PART_OF,
    LABEL_POOL,
    LABEL_STREAMING,
    LABEL_WORKLOAD,
    PART_OF_VALUE,
)
from .classify import COLD, FAILED_POD, UNKNOWN, WARM
from .events import normalize_events
from .kube_time import format_micro_time
from .pods import parse_bool_label, pod_from_dict
from .purge import DEFAULT_PURGE_IMAGE, daemonset_manifest, daemonset_name, pod_purge_state, PURGE_LABEL
from .report import build_report
from .selectors import combine
from .sources import EVENTS_FILE, PODS_FILE, TRIAL_MANIFEST

BASE_SELECTOR = f"{LABEL_PART_OF}={PART_OF_VALUE}"


class TrialError(RuntimeError):
    """A trial could not proceed (pods would not go away, reset failed)."""


class ResetError(TrialError):
    pass


# --- discovery -----------------------------------------------------------------


@dataclass
class Deployment:
    namespace: str
    name: str
    replicas: int
    images: List[str]


@dataclass
class Arm:
    name: str
    workload: str
    pair: Optional[str]
    streaming: Optional[bool]
    deployments: List[Deployment] = field(default_factory=list)

    @property
    def images(self) -> set:
        return {i for d in self.deployments for i in d.images}

    @property
    def expected_pods(self) -> int:
        return sum(d.replicas for d in self.deployments)


@dataclass
class Workload:
    name: str
    arms: Dict[str, Arm] = field(default_factory=dict)

    @property
    def images(self) -> set:
        return {i for a in self.arms.values() for i in a.images}


def _template_images(dep: dict) -> List[str]:
    spec = ((dep.get("spec") or {}).get("template") or {}).get("spec") or {}
    return [c.get("image", "") for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])]


def discover(cluster, namespaces: Sequence[str], selector: Optional[str], only: Optional[Sequence[str]],
             replicas_override: Optional[int]) -> List[Workload]:
    """Arms and their Deployments, by label (Deployment names are not a contract)."""
    workloads: Dict[str, Workload] = {}
    for ns in namespaces:
        for dep in cluster.list_deployments(ns, combine(BASE_SELECTOR, selector)):
            meta = dep.get("metadata") or {}
            labels = meta.get("labels") or {}
            tlabels = (((dep.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
            merged = {**labels, **tlabels}
            arm_name, wl = merged.get(LABEL_ARM), merged.get(LABEL_WORKLOAD)
            if not arm_name or not wl or (only and wl not in only):
                continue
            replicas = (dep.get("spec") or {}).get("replicas")
            replicas = 1 if replicas is None else int(replicas)
            if replicas == 0:
                if not replicas_override:
                    raise TrialError(
                        f"Deployment {ns}/{meta.get('name')} is scaled to 0 (an interrupted run?); "
                        "pass --replicas N or restore it with 'pulumi up'"
                    )
                replicas = replicas_override
            w = workloads.setdefault(wl, Workload(wl))
            arm = w.arms.setdefault(
                arm_name,
                Arm(arm_name, wl, merged.get(LABEL_PAIR), parse_bool_label(merged.get(LABEL_STREAMING))),
            )
            arm.deployments.append(Deployment(ns, meta.get("name", ""), replicas, _template_images(dep)))
    if only:
        missing = sorted(set(only) - set(workloads))
        if missing:
            raise TrialError(f"no Deployments found for workload(s): {', '.join(missing)}")
    if not workloads:
        raise TrialError(f"no experiment Deployments found with selector {combine(BASE_SELECTOR, selector)!r}")
    return [workloads[k] for k in sorted(workloads)]


def plan_rounds(workloads: Sequence[Workload]) -> List[dict]:
    """Group workloads so no two in one round share an image.

    Two workloads pulling the same image on the same nodes would warm each
    other's cache; each round gets its own reset, so sharing workloads are
    measured in different rounds.  The separation is recorded as a note.
    """
    rounds: List[dict] = []
    for w in workloads:
        for r in rounds:
            if not any(w.images & other.images for other in r["workloads"]):
                r["workloads"].append(w)
                break
        else:
            rounds.append({"workloads": [w], "notes": []})
    for i, r in enumerate(rounds):
        for w in r["workloads"]:
            for j, other in enumerate(rounds):
                if j == i:
                    continue
                for o in other["workloads"]:
                    shared = sorted(w.images & o.images)
                    if shared:
                        r["notes"].append(
                            f"workload {w.name} shares {', '.join(shared)} with workload {o.name}: "
                            "measured in a separate round with its own reset"
                        )
    return rounds


# --- resets ----------------------------------------------------------------------


@dataclass
class ResetContext:
    namespace: str
    images: List[str]
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

    def __init__(self, stack, cluster, clock, timeout: float, poll: float, on_output: Callable[[str], None] = lambda s: None):
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

    def __init__(self, cluster, clock, timeout: float, poll: float, image: Optional[str] = None,
                 id_factory: Callable[[], str] = lambda: uuid.uuid4().hex[:8]):
        self.cluster, self.clock = cluster, clock
        self.timeout, self.poll = timeout, poll
        self.image = image or DEFAULT_PURGE_IMAGE
        self.id_factory = id_factory

    def reset(self, ctx: ResetContext) -> dict:
        run_id = self.id_factory()
        name = daemonset_name(run_id)
        nodes = sorted((n.get("metadata") or {}).get("name") for n in self.cluster.list_nodes(LABEL_POOL))
        if not nodes:
            raise ResetError(f"no nodes carry the {LABEL_POOL} label")
        self.cluster.create_daemonset(ctx.namespace, daemonset_manifest(run_id, ctx.namespace, ctx.images, self.image))
        try:
            deadline = self.clock.monotonic() + self.timeout
            while True:
                pods = self.cluster.list_pods(ctx.namespace, f"{PURGE_LABEL}={run_id}")
                states = {(p.get("spec") or {}).get("nodeName"): pod_purge_state(p) for p in pods}
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


# --- trials ----------------------------------------------------------------------


def _list_doc(items: List[dict]) -> dict:
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


def _is_ready(pod: dict) -> bool:
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    for c in (pod.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


class Runner:
    def __init__(self, cluster, resetter, clock, results: Path, *, mode: str = "cold", timeout: float = 600.0,
                 poll: float = 2.0, progress=None, id_factory: Callable[[], str] = lambda: uuid.uuid4().hex):
        self.cluster, self.resetter, self.clock = cluster, resetter, clock
        self.results = Path(results)
        self.mode, self.timeout, self.poll = mode, timeout, poll
        self.progress = progress or _NullProgress()
        self.id_factory = id_factory

    # Pods of the given arms, one list call per namespace.
    def _pods(self, arms: Sequence[Arm]) -> Dict[str, List[dict]]:
        by_ns = defaultdict(list)
        for a in arms:
            for d in a.deployments:
                if a.name not in by_ns[d.namespace]:
                    by_ns[d.namespace].append(a.name)
        out: Dict[str, List[dict]] = defaultdict(list)
        for ns, names in by_ns.items():
            sel = combine(BASE_SELECTOR, f"{LABEL_ARM} in ({','.join(sorted(names))})")
            for p in self.cluster.list_pods(ns, sel):
                out[((p.get("metadata") or {}).get("labels") or {}).get(LABEL_ARM)].append(p)
        return out

    def _scale(self, arms: Sequence[Arm], to_zero: bool) -> Dict[str, str]:
        # Back to back, no waiting in between: the arms must start together.
        stamps = {}
        for a in arms:
            for d in a.deployments:
                self.cluster.scale_deployment(d.namespace, d.name, 0 if to_zero else d.replicas)
                stamps[f"{d.namespace}/{d.name}"] = format_micro_time(self.clock.now())
        return stamps

    def _wait_gone(self, arms, status) -> None:
        deadline = self.clock.monotonic() + self.timeout
        while True:
            pods = self._pods(arms)
            left = sum(len(v) for v in pods.values())
            if left == 0:
                return
            if self.clock.monotonic() >= deadline:
                raise TrialError(f"{left} pod(s) still present {self.timeout:.0f} s after scaling to 0")
            status(f"waiting for {left} pod(s) to go away")
            self.clock.sleep(self.poll)

    def _wait_ready(self, arms, status) -> bool:
        deadline = self.clock.monotonic() + self.timeout
        while True:
            pods = self._pods(arms)
            parts, all_ready = [], True
            for a in arms:
                live = [p for p in pods.get(a.name, []) if not (p.get("metadata") or {}).get("deletionTimestamp")]
                ready = sum(1 for p in live if _is_ready(p))
                parts.append(f"{a.name} {ready}/{a.expected_pods}")
                all_ready &= ready >= a.expected_pods
            if all_ready:
                return True
            if self.clock.monotonic() >= deadline:
                return False
            status("Ready: " + ", ".join(parts))
            self.clock.sleep(self.poll)

    def _snapshot(self, arms, folder: Path) -> tuple:
        pods = [p for items in self._pods(arms).values() for p in items]
        uids = {(p.get("metadata") or {}).get("uid") for p in pods}
        names = {((p.get("metadata") or {}).get("namespace"), (p.get("metadata") or {}).get("name")) for p in pods}
        events = []
        for ns in sorted({d.namespace for a in arms for d in a.deployments}):
            for ev in self.cluster.list_events(ns):
                obj = ev.get("involvedObject") or ev.get("regarding") or {}
                if obj.get("uid") in uids or (not obj.get("uid") and (obj.get("namespace"), obj.get("name")) in names):
                    events.append(ev)
        folder.mkdir(parents=True, exist_ok=True)
        for item in pods:
            item.setdefault("apiVersion", "v1")
            item.setdefault("kind", "Pod")
        for item in events:
            item.setdefault("apiVersion", "v1")
            item.setdefault("kind", "Event")
        (folder / PODS_FILE).write_text(json.dumps(_list_doc(pods), indent=2) + "\n")
        (folder / EVENTS_FILE).write_text(json.dumps(_list_doc(events), indent=2) + "\n")
        return pods, events

    def verify(self, pods: List[dict], events: List[dict], arms: Sequence[Arm], ready_in_time: bool) -> tuple:
        """Verdict and reasons, from the same classification ``report`` uses."""
        report = build_report([pod_from_dict(p) for p in pods], normalize_events(events), resamples=0)
        by_class = defaultdict(list)
        for p in report["pods"]:
            by_class[p["class"]].append(p["name"])
        reasons = []
        expected_warm = self.mode == "warm"
        if expected_warm and by_class[COLD]:
            reasons.append(f"cold pod(s) in a warm-restart trial: {', '.join(by_class[COLD])}")
        if not expected_warm and by_class[WARM]:
            reasons.append(f"warm pod(s), image already on the node: {', '.join(by_class[WARM])}")
        if by_class[FAILED_POD]:
            reasons.append(f"failed pull: {', '.join(by_class[FAILED_POD])}")
        if by_class[UNKNOWN]:
            reasons.append(f"no pull event: {', '.join(by_class[UNKNOWN])}")
        not_ready = [p["name"] for p in report["pods"] if not p["ready"]]
        if not ready_in_time:
            missing = sum(a.expected_pods for a in arms) - (len(report["pods"]) - len(not_ready))
            reasons.append(f"timeout: {missing} pod(s) not Ready within {self.timeout:.0f} s")
        if not reasons:
            return ("warm" if expected_warm else "cold"), []
        if not expected_warm and by_class[WARM]:
            verdict = "warm"
        elif expected_warm and by_class[COLD]:
            verdict = "cold"
        elif by_class[FAILED_POD]:
            verdict = "failed"
        elif not ready_in_time:
            verdict = "timeout"
        else:
            verdict = "unknown"
        return verdict, reasons

    def run_trial(self, index: int, total: int, round_: dict, round_no: int) -> dict:
        workloads = round_["workloads"]
        arms = [a for w in workloads for a in w.arms.values()]
        trial_id = self.id_factory()
        folder = self.results / trial_id
        label = f"trial {index}/{total} [{', '.join(w.name for w in workloads)}]"
        t0 = self.clock.monotonic()
        manifest = {
            "id": trial_id,
            "index": index,
            "round": round_no,
            "mode": self.mode,
            "reset": self.resetter.name,
            "workloads": [w.name for w in workloads],
            "arms": {a.name: {"workload": a.workload, "pair": a.pair, "streaming": a.streaming,
                              "deployments": [f"{d.namespace}/{d.name}" for d in a.deployments],
                              "replicas": a.expected_pods, "images": sorted(a.images)} for a in arms},
            "notes": list(round_["notes"]),
            "timeout_seconds": self.timeout,
            "started_at": format_micro_time(self.clock.now()),
            "phases": [],
        }

        def phase(name: str) -> None:
            manifest["phases"].append({"phase": name, "at": format_micro_time(self.clock.now()),
                                       "elapsed_seconds": round(self.clock.monotonic() - t0, 3)})
            self.progress.update(f"{label} {name}")

        def status(text: str) -> None:
            self.progress.update(f"{label} {manifest['phases'][-1]['phase']}: {text}")

        try:
            phase("scale-down")
            self._scale(arms, to_zero=True)
            phase("wait-gone")
            self._wait_gone(arms, status)
            phase("reset")
            namespace = arms[0].deployments[0].namespace
            manifest["reset_details"] = self.resetter.reset(
                ResetContext(namespace, sorted({i for a in arms for i in a.images}), status)
            )
            phase("scale-up")
            manifest["scale_up_at"] = self._scale(arms, to_zero=False)
            phase("wait-ready")
            ready = self._wait_ready(arms, status)
            phase("snapshot")
            pods, events = self._snapshot(arms, folder)
            phase("verify")
            verdict, reasons = self.verify(pods, events, arms, ready)
        except TrialError as exc:
            verdict, reasons = ("reset-failed" if isinstance(exc, ResetError) else "error"), [str(exc)]
            manifest.update(verdict=verdict, reasons=reasons, flagged=True,
                            ended_at=format_micro_time(self.clock.now()))
            folder.mkdir(parents=True, exist_ok=True)
            (folder / TRIAL_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
            raise
        expected = "warm" if self.mode == "warm" else "cold"
        manifest.update(verdict=verdict, reasons=reasons, flagged=verdict != expected,
                        ended_at=format_micro_time(self.clock.now()),
                        duration_seconds=round(self.clock.monotonic() - t0, 3))
        (folder / TRIAL_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        return manifest

    def prime(self, workloads: Sequence[Workload]) -> None:
        """Warm mode: make sure every arm has run once so the images are on the nodes."""
        arms = [a for w in workloads for a in w.arms.values()]
        self.progress.update("priming: rolling out once so images are on the nodes")
        self._scale(arms, to_zero=False)
        if not self._wait_ready(arms, lambda text: self.progress.update(f"priming: {text}")):
            raise TrialError("priming rollout did not become Ready; warm trials would not be warm")

    def run(self, workloads: Sequence[Workload], trials: int) -> List[dict]:
        rounds = plan_rounds(workloads)
        self.results.mkdir(parents=True, exist_ok=True)
        self.progress.start(trials * len(rounds))
        out = []
        try:
            if self.mode == "warm":
                self.prime(workloads)
            for i in range(1, trials + 1):
                for r_no, r in enumerate(rounds, start=1):
                    out.append(self.run_trial(i, trials, r, r_no))
                    self.progress.advance()
        except BaseException:
            # Leave the experiment as it was found (Deployments scaled up).
            arms = [a for w in workloads for a in w.arms.values()]
            try:
                self._scale(arms, to_zero=False)
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
            raise
        finally:
            self.progress.stop()
        return out


class _NullProgress:
    def start(self, total: int) -> None:
        pass

    def update(self, text: str) -> None:
        pass

    def advance(self) -> None:
        pass

    def stop(self) -> None:
        pass


class RichProgress:
    """Progress bar with trial, arm state and elapsed time."""

    def __init__(self, console=None):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._p = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TimeElapsedColumn(), console=console, transient=False)
        self._task = None

    def start(self, total: int) -> None:
        self._p.start()
        self._task = self._p.add_task("starting", total=total)

    def update(self, text: str) -> None:
        if self._task is not None:
            self._p.update(self._task, description=text)

    def advance(self) -> None:
        if self._task is not None:
            self._p.advance(self._task)

    def stop(self) -> None:
        self._p.stop()


def run_measure_cli(args) -> int:
    from rich.console import Console

    from .cluster import KubeCluster, PulumiStack, SystemClock
    from .sources import api_client

    console = Console(stderr=True)
    if args.reset == "recycle" and not args.stack:
        console.print("--reset recycle needs --stack NAME (it changes the stack's cacheGeneration and runs pulumi up)")
        return 2
    if args.trials < 1:
        console.print("--trials must be at least 1")
        return 2
    clock = SystemClock()
    cluster = KubeCluster(api_client(args.kubeconfig, args.context, args.stack))
    namespaces = args.namespace or [DEFAULT_NAMESPACE]
    if args.warm:
        resetter, mode = NoReset(), "warm"
    elif args.reset == "recycle":
        resetter, mode = RecycleReset(PulumiStack(args.stack), cluster, clock, args.timeout, args.poll,
                                      on_output=lambda line: console.log(line.rstrip())), "cold"
    else:
        resetter, mode = PurgeReset(cluster, clock, args.timeout, args.poll, image=args.purge_image), "cold"
    try:
        workloads = discover(cluster, namespaces, args.selector, args.workload, args.replicas)
    except TrialError as exc:
        console.print(f"[red]{exc}[/red]")
        return 2
    for r in plan_rounds(workloads):
        for note in r["notes"]:
            console.print(f"[yellow]note:[/yellow] {note}")
    runner = Runner(cluster, resetter, clock, Path(args.results), mode=mode, timeout=args.timeout, poll=args.poll,
                    progress=RichProgress(console))
    try:
        manifests = runner.run(workloads, args.trials)
    except TrialError as exc:
        console.print(f"[red]stopped: {exc}[/red]")
        return 1
    flagged = [m for m in manifests if m["flagged"]]
    console.print(f"{len(manifests)} trial(s) written to {args.results}; {len(flagged)} flagged.")
    for m in flagged:
        console.print(f"  [yellow]{m['id']}[/yellow] #{m['index']} {m['verdict']}: {'; '.join(m['reasons'])}")
    console.print(f"analyse with: python -m timing report --results {args.results}")
    return 0 if not flagged else 3
