"""`measure` refuses to start until the stack's pull check succeeded on every measured pool (fake cluster)."""

from __future__ import annotations

import pytest

from offline.clock import FakeClock
from offline.kube_cluster import FakeCluster, default_pools, vote_workloads
from timing.cli import main
from timing.measure.discovery import discover
from timing.measure.preflight import CHECK_SELECTOR, PullCheckError, check_pull_access, pull_check_problems


def cluster_with(**checks) -> FakeCluster:
    cluster = FakeCluster(FakeClock(), default_pools(), vote_workloads())
    cluster.pull_checks.update(checks)
    return cluster


def arms_of(cluster: FakeCluster):
    return [a for w in discover(cluster, ["streaming-ab"], None, None, None) for a in w.arms.values()]


def test_every_measured_pool_checked_lets_measure_start():
    cluster = cluster_with()
    assert pull_check_problems(cluster, arms_of(cluster)) == []
    check_pull_access(cluster, arms_of(cluster))
    assert ("jobs", "streaming-ab", CHECK_SELECTOR) in cluster.list_calls
    assert CHECK_SELECTOR == "app.kubernetes.io/part-of=acr-streaming-ab,streaming-ab/check=pull"


def test_a_failed_or_unfinished_check_names_each_pool_in_one_line():
    cluster = cluster_with(art="Failed", std=None)
    with pytest.raises(PullCheckError) as raised:
        check_pull_access(cluster, arms_of(cluster))
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("refusing to measure: the kubelet's pull from the registry is not proven (")
    assert "pool art: pull check failed (DeadlineExceeded); pool std: pull check not finished" in message
    assert "acrPullCommand" in message


def test_a_pool_without_a_check_job_is_refused():
    cluster = cluster_with()
    del cluster.pull_checks["art"]
    assert pull_check_problems(cluster, arms_of(cluster)) == ["pool art: no pull-check Job in streaming-ab"]


def test_only_the_measured_pools_count():
    pools = {**default_pools(), "idle": {"streaming": False, "nodes": 1}}
    cluster = FakeCluster(FakeClock(), pools, vote_workloads())
    cluster.pull_checks["idle"] = "Failed"  # a pool no arm runs on
    assert pull_check_problems(cluster, arms_of(cluster)) == []


def test_the_pool_comes_from_the_node_selector_when_no_label_names_it():
    cluster = cluster_with()
    for deployment in cluster.deployments.values():
        del deployment["labels"]["streaming-ab/pool"]  # as the program declares them
    assert {a.name: a.pool for a in arms_of(cluster)} == {"vote-standard": "std", "vote-streaming": "art"}
    cluster.pull_checks["std"] = "Failed"
    assert pull_check_problems(cluster, arms_of(cluster)) == ["pool std: pull check failed (DeadlineExceeded)"]


def test_measure_stops_before_touching_anything(capsys, monkeypatch):
    cluster = cluster_with(art=None)
    monkeypatch.setattr("timing.cli.measure.connect", lambda args: cluster)
    code = main(["measure", "--warm", "--results", "unused"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.count("\n") == 0 and "Traceback" not in err
    assert err.startswith("timing: error: refusing to measure: ") and "pool art: pull check not finished" in err
    assert cluster.scale_calls == [] and cluster.label_calls == [] and cluster.daemonsets == {}


def test_the_live_cluster_lists_jobs_by_label_as_kubectl_prints_them(monkeypatch):
    import json

    import kubernetes.client

    from timing.sources.cluster import KubeCluster

    calls = []

    class Response:
        data = json.dumps({"items": [{"metadata": {"name": "pull-check-art"}}]}).encode()

    class Batch:
        def __init__(self, client):
            pass

        def list_namespaced_job(self, namespace, label_selector="", _preload_content=True):
            calls.append((namespace, label_selector, _preload_content))
            return Response()

    monkeypatch.setattr(kubernetes.client, "BatchV1Api", Batch)
    jobs = KubeCluster(object()).list_jobs("streaming-ab", CHECK_SELECTOR)
    assert jobs == [{"metadata": {"name": "pull-check-art"}}]
    assert calls == [("streaming-ab", CHECK_SELECTOR, False)]
