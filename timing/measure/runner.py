"""``venv/bin/python -m timing measure``: repeated cold-start trials, snapshotted for ``report``.

Design notes: docs/timing.md ("timing/measure/runner.py").
"""

from __future__ import annotations

import contextlib
import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from contract import LABEL_ARM, LABEL_POOL, LABEL_TRIAL
from timing.analysis.classify import COLD, FAILED_POD, MIXED, RESTARTED, SKEWED, UNKNOWN, WARM
from timing.analysis.report import build_report
from timing.measure.auto import AutoTrials, cost, more_trials
from timing.measure.discovery import BASE_SELECTOR, Arm, ResetError, TrialError, Workload, plan_rounds
from timing.measure.prober import NodeProber, parse_run, pod_container_ids, reset_leftovers
from timing.measure.progress import NullProgress, Progress
from timing.measure.resets import ResetContext, Resetter
from timing.model.events import normalize_events
from timing.model.evidence import Evidence, node_image_names
from timing.model.kube_time import format_micro_time
from timing.model.nodes import facts_by_name, node_image_mismatch
from timing.model.pods import pod_from_dict
from timing.model.probe import NodeProbe
from timing.sources.cluster import APP_LOG_BYTES, Clock, Cluster
from timing.sources.results import (
    load_results,
    write_app_logs,
    write_evidence,
    write_manifest,
    write_probe_outputs,
    write_snapshot,
)
from timing.sources.selectors import combine


def _is_ready(pod: dict) -> bool:
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    for c in (pod.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


FIRST_TRIAL_REASON = "first trial: registry-side caches may still be warming; left out unless --include-flagged"


def _nodes_by_arm(arms: Sequence[Arm], pods: list[dict]) -> dict[str, list]:
    return {
        a.name: sorted(
            {
                (p.get("spec") or {}).get("nodeName")
                for p in pods
                if ((p.get("metadata") or {}).get("labels") or {}).get(LABEL_ARM) == a.name
            }
            - {None}
        )
        for a in arms
    }


def _flag(manifest: dict, code: str, reason: str) -> None:
    """A protocol flag (docs/timing.md, "Node facts and protocol flags"): flagged whatever the verdict."""
    manifest.setdefault("flags", []).append(code)
    manifest.setdefault("flag_reasons", []).append(reason)


class _TrialLog:
    """One trial's manifest as it runs: each phase stamped, and the progress line kept current."""

    def __init__(self, clock: Clock, progress: Progress, label: str):
        self.clock, self.progress, self.label = clock, progress, label
        self.t0 = clock.monotonic()
        self.manifest: dict = {}

    def elapsed(self) -> float:
        return self.clock.monotonic() - self.t0

    def phase(self, name: str) -> None:
        self.manifest["phases"].append(
            {"phase": name, "at": format_micro_time(self.clock.now()), "elapsed_seconds": round(self.elapsed(), 3)}
        )
        self.progress.update(f"{self.label} {name} ({self.elapsed():.0f} s)")

    def status(self, text: str) -> None:
        elapsed = self.elapsed()
        self.progress.update(f"{self.label} {self.manifest['phases'][-1]['phase']} ({elapsed:.0f} s): {text}")


class Runner:
    def __init__(
        self,
        cluster: Cluster,
        resetter: Resetter,
        clock: Clock,
        results: Path,
        *,
        warm: bool = False,
        timeout: float = 600.0,
        poll: float = 2.0,
        progress: Progress | None = None,
        id_factory: Callable[[], str] = lambda: uuid.uuid4().hex,
        evidence_reader: Callable[[list[str]], tuple[dict, dict]] | None = None,
        seed: int | None = None,
        prober: NodeProber | None = None,
        say: Callable[[str], None] = lambda text: None,
    ):
        self.cluster, self.resetter, self.clock = cluster, resetter, clock
        self.results = Path(results)
        self.warm, self.timeout, self.poll = warm, timeout, poll
        # The node probe after the reset and while the pods run; None: no node evidence is collected.
        self.prober = prober
        self.progress = progress or NullProgress()
        self.id_factory = id_factory
        # (pools) -> (ARM pool streaming flags, image streaming artifacts); None: neither is read.
        self.evidence_reader = evidence_reader
        # Round and scale-up order are drawn at random, so neither arm always goes first; the seed is recorded.
        self.seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
        self.rng = random.Random(self.seed)
        self.taken: list[dict] = []  # trials written so far (kept when a run is interrupted)
        self.run_arms: list[Arm] = []  # every arm of the run, across its rounds
        self.say = say  # what the run tells its user between trials (--trials auto extensions)

    # Pods of the given arms, one list call per namespace.
    def _pods(self, arms: Sequence[Arm]) -> dict[str, list[dict]]:
        by_ns: dict[str, list[str]] = defaultdict(list)
        for a in arms:
            for d in a.deployments:
                if a.name not in by_ns[d.namespace]:
                    by_ns[d.namespace].append(a.name)
        out: dict[str, list[dict]] = defaultdict(list)
        for ns, names in by_ns.items():
            sel = combine(BASE_SELECTOR, f"{LABEL_ARM} in ({','.join(sorted(names))})")
            for p in self.cluster.list_pods(ns, sel):
                out[((p.get("metadata") or {}).get("labels") or {}).get(LABEL_ARM) or ""].append(p)
        return out

    def _label_trial(self, arms: Sequence[Arm], value: str) -> None:
        for a in arms:
            for d in a.deployments:
                self.cluster.set_template_label(d.namespace, d.name, LABEL_TRIAL, value)

    def _evidence(self, arms: Sequence[Arm]) -> Evidence:
        """What the nodes hold and say before any pod of the trial exists, and the pools' ARM flag."""
        pools = sorted({a.pool for a in arms if a.pool})
        nodes = self.cluster.list_nodes(f"{LABEL_POOL} in ({','.join(pools)})") if pools else []
        pool_streaming, artifacts = self.evidence_reader(pools) if self.evidence_reader else ({}, {})
        return Evidence(
            pool_streaming=dict(pool_streaming),
            node_labels={n["metadata"]["name"]: dict(n["metadata"].get("labels") or {}) for n in nodes},
            node_images_before={n["metadata"]["name"]: node_image_names(n) for n in nodes},
            streaming_artifacts=dict(artifacts),
            node_facts=facts_by_name(nodes),
        )

    def _probe(self, log: _TrialLog, stage: str, arms: Sequence[Arm], folder: Path) -> dict[str, NodeProbe] | None:
        """The node probe on the arms' pools (``stage``: after-reset, while-running), raw output saved."""
        if self.prober is None:
            return None
        log.phase(f"probe-{stage}")
        pods = [p for items in self._pods(arms).values() for p in items] if stage == "while-running" else []
        run = self.prober.probe(sorted({a.pool for a in arms if a.pool}), pod_container_ids(pods), log.status)
        write_probe_outputs(folder, stage, run.outputs)
        log.manifest.setdefault("probe_problems", []).extend(f"{stage}: {p}" for p in run.problems)
        return parse_run(run)

    def _app_logs(self, pods: list[dict]) -> dict[str, str]:
        out = {}
        for p in pods:
            meta = p.get("metadata") or {}
            containers = (p.get("spec") or {}).get("containers") or []
            if not containers or not meta.get("uid"):
                continue
            # An API pod always has a namespace and a name.
            text = self.cluster.read_pod_log(meta["namespace"], meta["name"], containers[0]["name"], APP_LOG_BYTES)
            if text:
                out[meta["uid"]] = text
        return out

    def _scale(self, arms: Sequence[Arm], to_zero: bool) -> dict[str, str]:
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

    def _snapshot(self, arms: Sequence[Arm], folder: Path, evidence: Evidence) -> tuple:
        """The trial's pods, their events and app logs, and the evidence read before: written to ``folder``."""
        pods = [p for items in self._pods(arms).values() for p in items]
        uids = {(p.get("metadata") or {}).get("uid") for p in pods}
        names = {((p.get("metadata") or {}).get("namespace"), (p.get("metadata") or {}).get("name")) for p in pods}
        events = []
        for ns in sorted({d.namespace for a in arms for d in a.deployments}):
            for ev in self.cluster.list_events(ns):
                obj = ev.get("involvedObject") or ev.get("regarding") or {}
                if obj.get("uid") in uids or (not obj.get("uid") and (obj.get("namespace"), obj.get("name")) in names):
                    events.append(ev)
        write_snapshot(folder, pods, events)
        write_evidence(folder, evidence)
        write_app_logs(folder, self._app_logs(pods))
        return pods, events

    def verify(
        self,
        pods: list[dict],
        events: list[dict],
        arms: Sequence[Arm],
        ready_in_time: bool,
        evidence: Evidence | None = None,
        trial_label: str | None = None,
    ) -> tuple:
        """Verdict, reasons and `verified` per comparison, from the same classification and checks ``report`` uses."""
        report = build_report(
            [pod_from_dict(p) for p in pods], normalize_events(events), evidence={trial_label: evidence}
        )
        by_class = defaultdict(list)
        for p in report["pods"]:
            by_class[p["class"]].append(p["name"])
        verified = {f"{c['baseline_arm']} vs {c['streaming_arm']}": c["verified"] for c in report["comparisons"]}
        expected_warm = self.warm
        reasons = []
        for name, v in verified.items():
            if v["streaming"] is False or v["configured"] is False or (not expected_warm and v["cold"] is False):
                reasons.append(f"{name} not verified: {'; '.join(v['contradicted'])}")
        if expected_warm and by_class[COLD]:
            reasons.append(f"cold pod(s) in a warm-restart trial: {', '.join(by_class[COLD])}")
        if not expected_warm and by_class[WARM]:
            reasons.append(f"warm pod(s), image already on the node: {', '.join(by_class[WARM])}")
        if not expected_warm and by_class[MIXED]:
            reasons.append(f"mixed pod(s), some images already on the node: {', '.join(by_class[MIXED])}")
        if by_class[FAILED_POD]:
            reasons.append(f"failed pull: {', '.join(by_class[FAILED_POD])}")
        if by_class[RESTARTED]:
            reasons.append(f"restarted container(s): {', '.join(by_class[RESTARTED])}")
        if by_class[SKEWED]:
            reasons.append(f"clock skew (a phase before creation): {', '.join(by_class[SKEWED])}")
        if by_class[UNKNOWN]:
            reasons.append(f"no pull event: {', '.join(by_class[UNKNOWN])}")
        not_ready = [p["name"] for p in report["pods"] if not p["ready"]]
        if not ready_in_time:
            missing = sum(a.expected_pods for a in arms) - (len(report["pods"]) - len(not_ready))
            reasons.append(f"timeout: {missing} pod(s) not Ready within {self.timeout:.0f} s")
        if not reasons:
            return ("warm" if expected_warm else "cold"), [], verified
        streaming_false = any(v["streaming"] is False or v["configured"] is False for v in verified.values())
        cold_false = any(v["cold"] is False for v in verified.values())
        if not expected_warm and (by_class[WARM] or by_class[MIXED] or cold_false):
            verdict = "warm"
        elif expected_warm and by_class[COLD]:
            verdict = "cold"
        elif by_class[FAILED_POD]:
            verdict = "failed"
        elif streaming_false:
            verdict = "not-streaming"
        elif by_class[RESTARTED] or by_class[SKEWED]:
            verdict = "unusable"
        elif not ready_in_time:
            verdict = "timeout"
        else:
            verdict = "unknown"
        return verdict, reasons, verified

    def _indexes(self, trials: int | AutoTrials, rounds: int):
        """Trial indexes to run: 1..N, or with ``--trials auto`` a pilot, then extensions as the target needs.

        Before each extension the runner says how many trials, how long and how many node-hours.
        """
        if isinstance(trials, int):
            yield from range(1, trials + 1)
            return
        yield from range(1, trials.pilot + 1)
        done = trials.pilot
        while done < trials.max_trials:
            extra, why = more_trials(self._report_of_taken(), trials.precision)
            if extra <= 0:
                self.say(f"precision target ±{trials.precision:.0%} reached after {done} trial(s): {why}")
                return
            extra = min(extra, trials.max_trials - done)
            self.say(f"{why}: {extra} more trial(s), {cost(self.taken, extra * rounds)}")
            yield from range(done + 1, done + extra + 1)
            done += extra
        self.say(f"stopped at --max-trials {trials.max_trials}: the precision target may not be reached")

    def _report_of_taken(self) -> dict:
        """The report of this run's trials so far, flagged ones left out as ``report`` leaves them out."""
        ids = {m["id"] for m in self.taken}
        loaded = load_results([str(self.results)])
        pods = [p for p in loaded.pods if p.trial in ids]
        trials = [t for t in loaded.trials or () if t["id"] in ids]
        return build_report(pods, loaded.events, trials=trials, evidence=loaded.evidence)

    def run_trial(self, index: int, total: int, round_: dict, round_no: int) -> dict:
        workloads = round_["workloads"]
        arms = [a for w in workloads for a in w.arms.values()]
        scale_order = self.rng.sample(arms, len(arms))
        trial_id = self.id_factory()
        folder = self.results / trial_id
        log = _TrialLog(self.clock, self.progress, f"trial {index}/{total} [{', '.join(w.name for w in workloads)}]")
        log.manifest = self._manifest(trial_id, index, round_, round_no, arms, scale_order)
        try:
            verdict, reasons = self._take(log, arms, scale_order, folder)
        except TrialError as exc:
            verdict = "reset-failed" if isinstance(exc, ResetError) else "error"
            reasons = [str(exc), *log.manifest.pop("flag_reasons", [])]
            log.manifest.update(
                verdict=verdict, reasons=reasons, flagged=True, ended_at=format_micro_time(self.clock.now())
            )
            write_manifest(folder, log.manifest)
            raise
        self._conclude(log, index, verdict, reasons)
        write_manifest(folder, log.manifest)
        return log.manifest

    def _manifest(
        self, trial_id: str, index: int, round_: dict, round_no: int, arms: list[Arm], scale_order: list[Arm]
    ) -> dict:
        """What the trial is, before it starts: written even when it fails."""
        return {
            "id": trial_id,
            "index": index,
            "round": round_no,
            "mode": "warm" if self.warm else "cold",
            "reset": self.resetter.name,
            "workloads": [w.name for w in round_["workloads"]],
            "arms": {
                a.name: {
                    "workload": a.workload,
                    "pair": a.pair,
                    "streaming": a.streaming,
                    "deployments": [f"{d.namespace}/{d.name}" for d in a.deployments],
                    "replicas": a.expected_pods,
                    "images": sorted(a.images),
                }
                for a in arms
            },
            "notes": list(round_["notes"]),
            "trial_label": str(index),
            "seed": self.seed,
            "scale_order": [a.name for a in scale_order],
            "timeout_seconds": self.timeout,
            "started_at": format_micro_time(self.clock.now()),
            "phases": [],
        }

    def _take(self, log: _TrialLog, arms: list[Arm], scale_order: list[Arm], folder: Path) -> tuple[str, list[str]]:
        """The trial's phases in order (docs/timing.md, "timing/measure/runner.py"); the verdict and its reasons."""
        manifest = log.manifest
        log.phase("scale-down")
        # Other rounds' arms on these pools go to 0 too: left running, a fresh node would pull their
        # image (often this round's image) before or while this round scales up.
        idle = self._idle_on_pools(arms)
        if idle:
            manifest["idle_arms"] = sorted(a.name for a in idle)
        self._scale([*arms, *idle], to_zero=True)
        log.phase("wait-gone")
        self._wait_gone([*arms, *idle], log.status)
        log.phase("reset")
        pools = sorted({a.pool for a in arms if a.pool})
        images = sorted({i for a in arms for i in a.images})
        context = ResetContext(arms[0].deployments[0].namespace, images, log.status, pools=pools)
        manifest["reset_details"] = self.resetter.reset(context)
        after_reset = self._probe(log, "after-reset", arms, folder)
        leftover = reset_leftovers(after_reset or {})
        if leftover and not self.warm:
            _flag(manifest, "reset_failed", leftover)
        log.phase("label")
        self._label_trial(arms, manifest["trial_label"])
        log.phase("check-nodes")
        evidence = self._evidence(arms)
        evidence.probes_after_reset = after_reset or {}
        log.phase("scale-up")
        manifest["scale_up_at"] = self._scale(scale_order, to_zero=False)
        log.phase("wait-ready")
        ready = self._wait_ready(arms, log.status)
        evidence.probes = self._probe(log, "while-running", arms, folder) or {}
        for node, probe in evidence.probes.items():
            evidence.node_facts.setdefault(node, {}).update(
                {f"{k.replace('-', '_')}_version": v for k, v in probe.versions.items()}
            )
        log.phase("snapshot")
        pods, events = self._snapshot(arms, folder, evidence)
        manifest["nodes"] = _nodes_by_arm(arms, pods)
        manifest["node_facts"] = {n: evidence.node_facts.get(n, {}) for ns in manifest["nodes"].values() for n in ns}
        mismatch = node_image_mismatch(evidence.node_facts, manifest["nodes"])
        if mismatch:
            _flag(manifest, "node_image_mismatch", mismatch)
        log.phase("verify")
        verdict, reasons, manifest["verified"] = self.verify(
            pods, events, arms, ready, evidence, manifest["trial_label"]
        )
        return verdict, reasons

    def _conclude(self, log: _TrialLog, index: int, verdict: str, reasons: list[str]) -> None:
        """Flag the trial when its verdict is not the one expected or a protocol flag was raised; the first cold one always."""
        expected = "warm" if self.warm else "cold"
        first_cold = index == 1 and not self.warm
        flags = log.manifest.setdefault("flags", [])
        log.manifest["first_trial"] = index == 1
        log.manifest.update(
            verdict=verdict,
            reasons=reasons + log.manifest.pop("flag_reasons", []) + ([FIRST_TRIAL_REASON] if first_cold else []),
            flagged=verdict != expected or first_cold or bool(flags),
            unexpected=verdict != expected or bool(flags),
            ended_at=format_micro_time(self.clock.now()),
            duration_seconds=round(log.elapsed(), 3),
        )

    def _idle_on_pools(self, arms: list[Arm]) -> list[Arm]:
        """Cold runs: arms of the run outside this round that share a pool with it."""
        if self.warm:
            return []
        pools = {a.pool for a in arms}
        return [a for a in self.run_arms if a not in arms and a.pool in pools]

    def prime(self, workloads: Sequence[Workload]) -> None:
        """Warm mode: make sure every arm has run once so the images are on the nodes."""
        arms = [a for w in workloads for a in w.arms.values()]
        self.progress.update("priming: rolling out once so images are on the nodes")
        self._scale(arms, to_zero=False)
        if not self._wait_ready(arms, lambda text: self.progress.update(f"priming: {text}")):
            raise TrialError("priming rollout did not become Ready; warm trials would not be warm")

    def run(self, workloads: Sequence[Workload], trials: int | AutoTrials) -> list[dict]:
        rounds = plan_rounds(workloads)
        self.run_arms = [a for w in workloads for a in w.arms.values()]
        self.results.mkdir(parents=True, exist_ok=True)
        total = trials if isinstance(trials, int) else trials.max_trials  # auto: the cap, an upper bound
        self.progress.start(total * len(rounds))
        out = []
        try:
            if self.warm:
                self.prime(workloads)
            for i in self._indexes(trials, len(rounds)):
                for r in self.rng.sample(rounds, len(rounds)):
                    out.append(self.run_trial(i, total, r, rounds.index(r) + 1))
                    self.taken = out
                    self.progress.advance()
            if len(rounds) > 1 and not self.warm:
                self._scale(self.run_arms, to_zero=False)  # the arms other rounds left at 0
        except BaseException:
            # Leave the experiment as it was found (Deployments scaled up).
            arms = [a for w in workloads for a in w.arms.values()]
            # The original error matters more than one from restoring the scale.
            with contextlib.suppress(Exception):
                self._scale(arms, to_zero=False)
            raise
        finally:
            self.progress.stop()
            # What the run created in the cluster goes, whatever stopped it (Ctrl-C included).
            with contextlib.suppress(Exception):
                self.resetter.close()
            if self.prober is not None:
                with contextlib.suppress(Exception):
                    self.prober.close()
        return out
