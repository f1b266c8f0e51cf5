"""Before the first trial: the stack's pull check has succeeded on every pool the trials will use.

The program declares one pull-check Job per experiment pool (labels in contract/); it completes only
once a node of that pool pulled a tiny image from the registry with the kubelet's credentials. A
measured pull before that could fall back to an ordinary pull without any error, so `measure`
refuses to start, in one line naming each pool and what is missing.
"""

from __future__ import annotations

from collections.abc import Sequence

from contract import LABEL_CHECK, LABEL_PART_OF, LABEL_POOL, PART_OF_VALUE, PULL_CHECK
from timing.measure.discovery import Arm, TrialError
from timing.sources.cluster import Cluster

CHECK_SELECTOR = f"{LABEL_PART_OF}={PART_OF_VALUE},{LABEL_CHECK}={PULL_CHECK}"


class PullCheckError(TrialError):
    """The kubelet's pull from the registry is not proven on every pool the trials use."""


def job_state(job: dict) -> str:
    """`succeeded`, `failed (<reason>)` or `not finished`, from the Job's conditions."""
    for condition in (job.get("status") or {}).get("conditions") or ():
        if condition.get("status") != "True":
            continue
        if condition.get("type") == "Complete":
            return "succeeded"
        if condition.get("type") == "Failed":
            return f"failed ({condition.get('reason') or 'no reason given'})"
    return "not finished"


def pull_check_problems(cluster: Cluster, arms: Sequence[Arm]) -> list[str]:
    """What is missing, one phrase per pool (empty: every pool's check succeeded)."""
    problems = []
    namespaces = sorted({d.namespace for a in arms for d in a.deployments})
    jobs: dict[str, list[dict]] = {}
    for namespace in namespaces:
        for job in cluster.list_jobs(namespace, CHECK_SELECTOR):
            pool = ((job.get("metadata") or {}).get("labels") or {}).get(LABEL_POOL)
            jobs.setdefault(pool or "", []).append(job)
    for arm in sorted(arms, key=lambda a: a.name):
        if not arm.pool:
            problems.append(f"arm {arm.name}: its pool is unknown (no {LABEL_POOL} nodeSelector), so is its check")
    for pool in sorted({a.pool for a in arms if a.pool}):
        states = [job_state(job) for job in jobs.get(pool, [])]
        if not states:
            problems.append(f"pool {pool}: no pull-check Job in {', '.join(namespaces)}")
        elif "succeeded" not in states:
            problems.append(f"pool {pool}: pull check {states[0]}")
    return problems


def check_pull_access(cluster: Cluster, arms: Sequence[Arm]) -> None:
    """Raise `PullCheckError` (one line) unless every pool of `arms` has a succeeded pull check."""
    problems = pull_check_problems(cluster, arms)
    if problems:
        raise PullCheckError(
            "refusing to measure: the kubelet's pull from the registry is not proven ("
            + "; ".join(problems)
            + "); run `pulumi up` until it completes (with cluster.acrPull: external, after an administrator "
            "ran the stack output acrPullCommand)"
        )
