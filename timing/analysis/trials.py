"""Which trial a pod without a trial id belongs to: one rollout of its arm, never several merged.

A rollout is the pods of one arm with one ``pod-template-hash`` whose creations follow each other by
at most ``ROLLOUT_GAP_SECONDS``. Pods of a terminating (earlier) rollout take no part. Rules:
docs/timing.md ("Trials from dumps").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from contract import LABEL_ARM, LABEL_TRIAL
from timing.errors import UsageError
from timing.model.pods import PodInfo

ROLLOUT_GAP_SECONDS = 60.0
TEMPLATE_HASH_LABEL = "pod-template-hash"  # set by the Deployment controller on every pod of a ReplicaSet


def _deployment(p: PodInfo) -> str:
    """The Deployment a pod comes from: its name without the ReplicaSet's hash and the pod's suffix."""
    h = p.labels.get(TEMPLATE_HASH_LABEL)
    return p.name.split(f"-{h}-")[0] if h and f"-{h}-" in p.name else ""


def _start(unit: list[PodInfo]) -> datetime:
    return unit[0].created or datetime.max


def _units(pods: Sequence[PodInfo]) -> list[tuple[tuple, list[PodInfo]]]:
    """Per arm and Deployment, runs of pods with one template hash whose creations are <= 60 s apart."""
    groups: dict[tuple, list[PodInfo]] = defaultdict(list)
    for p in pods:
        groups[(p.labels.get(LABEL_ARM) or "", _deployment(p), p.labels.get(TEMPLATE_HASH_LABEL))].append(p)
    out: list[tuple[tuple, list[PodInfo]]] = []
    for (arm, deployment, _hash), group in groups.items():
        group.sort(key=lambda p: (p.created is None, p.created or datetime.min, p.name))
        current: list[PodInfo] = []
        for p in group:
            previous = current[-1].created if current else None
            gap = (p.created - previous).total_seconds() if p.created and previous else None
            if current and (gap is None or gap > ROLLOUT_GAP_SECONDS):
                out.append(((arm, deployment), current))
                current = []
            current.append(p)
        out.append(((arm, deployment), current))
    return sorted(out, key=lambda u: _start(u[1]))


def assign_rollout_trials(pods: Sequence[PodInfo]) -> None:
    """Give pods without a trial id the trial of their rollout: ``rollout-<k>``, k-th in time.

    Rollouts of every arm and Deployment that start within 60 s of each other form one trial; when
    there is only one, the pods stay without a trial id. One Deployment with two rollouts inside one
    such window (a rolling update) cannot be split: the report refuses in one line.
    """
    units = _units([p for p in pods if p.trial is None and not p.deleting])
    trials: list[list[tuple[tuple, list[PodInfo]]]] = []
    for unit in units:
        if trials and (_start(unit[1]) - _start(trials[-1][0][1])).total_seconds() <= ROLLOUT_GAP_SECONDS:
            trials[-1].append(unit)
        else:
            trials.append([unit])
    for members in trials:
        keys = [key for key, _pods in members]
        if len(set(keys)) < len(keys):
            arm, deployment = next(key for key in keys if keys.count(key) > 1)
            raise UsageError(
                f"arm {arm}: Deployment {deployment or '?'} has two rollouts (another {TEMPLATE_HASH_LABEL}) "
                f"within {ROLLOUT_GAP_SECONDS:.0f} s and no trial label: label each trial's pods "
                f"{LABEL_TRIAL}=<n>, or give one --pods/--events pair per trial"
            )
    if len(trials) < 2:
        return
    for k, members in enumerate(trials, start=1):
        for _key, unit_pods in members:
            for p in unit_pods:
                p.trial = f"rollout-{k}"
