import json
from datetime import UTC

import pytest

from tests.timing.helpers import FIXTURES
from timing import SCHEMA
from timing.analysis.report import build_report
from timing.sources.inputs import load_dumps

POD_KEYS = {
    "namespace",
    "name",
    "arm",
    "workload",
    "streaming",
    "node",
    "containers",
    "started_seconds",
    "ready_seconds",
    "scheduled_seconds",
    "app_ready_seconds",
    "class",
    "trial",
    "restart_count",
    "resolution_seconds",
}
CONTAINER_KEYS = {
    "name",
    "image",
    "cold",
    "pull_seconds",
    "pull_including_waiting_seconds",
    "image_size_bytes",
    "failed",
    "source",
    "pull_start_seconds",
    "pull_end_seconds",
}
ARM_KEYS = {
    "workload",
    "streaming",
    "pods",
    "cold_pods",
    "warm_pods",
    "failed_pods",
    "unknown_pods",
    "mixed_pods",
    "restarted_pods",
    "skewed_pods",
    "excluded",
    "failure_rate",
    "trials",
    "pull_seconds",
    "ready_seconds",
    "app_ready_seconds",
}
STAT_KEYS = {"n", "min", "p50", "p90", "p99", "max", "mean"}
CMP_KEYS = {
    "workload",
    "pair",
    "baseline_arm",
    "streaming_arm",
    "ready_p50_speedup",
    "pull_p50_speedup",
    "speedup",
    "app_speedup",
    "verified",
}
SPEEDUP_KEYS = {"metric", "per_trial", "n_trials", "estimate", "ci95", "trials_needed", "excluded_trials"}


@pytest.fixture(scope="module")
def report():
    loaded = load_dumps(
        [str(FIXTURES / "pods.json")], [str(FIXTURES / "events.json"), str(FIXTURES / "events-k8s-io.json")]
    )
    info = json.loads((FIXTURES / "image-info.json").read_text())
    return build_report(loaded.pods, loaded.events, image_info=info)


def test_contract_keys(report):
    assert report["schema"] == SCHEMA
    assert set(report) >= {"schema", "pods", "arms", "comparisons"}
    for p in report["pods"]:
        assert set(p) >= POD_KEYS
        for c in p["containers"]:
            assert set(c) >= CONTAINER_KEYS
            assert c["cold"] in (True, False, None) and isinstance(c["failed"], bool)
    for a in report["arms"].values():
        assert set(a) >= ARM_KEYS
        assert set(a["pull_seconds"]) == STAT_KEYS and set(a["ready_seconds"]) == STAT_KEYS
    for c in report["comparisons"]:
        assert set(c) >= CMP_KEYS
        assert set(c["speedup"]) == SPEEDUP_KEYS and c["speedup"]["metric"] == "arm_ready"
        assert set(c["verified"]) == {"streaming", "cold", "reasons", "contradicted"}
    json.dumps(report)  # serialisable as is


def test_only_armed_pods_are_reported(report):
    assert len(report["pods"]) == 32
    assert all(p["namespace"] == "streaming-ab" for p in report["pods"])


def test_arm_counts(report):
    arms = report["arms"]
    assert sorted(arms) == [
        "large-fast-standard",
        "large-fast-streaming",
        "large-slow-standard",
        "large-slow-streaming",
        "vote-squashed-standard",
        "vote-squashed-streaming",
        "vote-standard",
        "vote-streaming",
    ]
    counts = {
        n: (a["pods"], a["cold_pods"], a["warm_pods"], a["failed_pods"], a["unknown_pods"], a["not_ready_pods"])
        for n, a in arms.items()
    }
    assert counts["large-fast-standard"] == (10, 10, 0, 0, 0, 0)  # the 10-replica arm
    assert counts["large-fast-streaming"] == (10, 9, 0, 1, 0, 1)  # failed pull, still pending
    assert counts["large-slow-standard"] == (2, 1, 1, 0, 0, 0)  # warm re-created pod
    assert counts["vote-squashed-standard"] == (3, 2, 0, 0, 1, 0)  # expired events
    assert arms["vote-standard"]["streaming"] is False and arms["vote-streaming"]["streaming"] is True


def test_hand_computed_statistics(report):
    a = report["arms"]
    # vote-standard: front 34.738162 s, back 2.912437 s; Ready after 37 s and 5 s (second resolution).
    assert a["vote-standard"]["pull_seconds"]["p50"] == pytest.approx((34.738162 + 2.912437) / 2)
    assert a["vote-standard"]["ready_seconds"]["p50"] == 21.0
    # vote-streaming created 350 ms later, Ready at 10.95 s / 3.65 s after T0 -> 10 s and 3 s after creation.
    assert a["vote-streaming"]["ready_seconds"]["p50"] == 6.5
    fast = a["large-fast-standard"]["pull_seconds"]
    assert fast["n"] == 10 and fast["min"] == pytest.approx(0.327) and fast["max"] == pytest.approx(11.204)
    assert fast["p50"] == pytest.approx((0.395 + 0.412) / 2)
    waits = a["large-fast-standard"]["pull_including_waiting_seconds"]
    assert waits["p50"] > 10 * fast["p50"]
    slow = a["large-slow-standard"]
    assert slow["pull_seconds"]["p50"] == pytest.approx(61.482)  # 1m1.482s
    # One pod: a median, never a p90 or p99.
    assert slow["ready_seconds"] == {
        "n": 1,
        "min": 64.0,
        "p50": 64.0,
        "p90": None,
        "p99": None,
        "max": 64.0,
        "mean": 64.0,
    }
    assert slow["warm_ready_seconds"]["n"] == 1  # the warm pod is not in the cold stats
    stream = a["large-fast-streaming"]["ready_seconds"]
    assert stream["n"] == 9  # the failed, pending pod has no ready time


def test_comparisons(report):
    cmp = {(c["workload"], c["pair"]): c for c in report["comparisons"]}
    assert sorted(cmp) == [("largeimage", "fast-10x"), ("largeimage", "slow"), ("vote", "squashed"), ("vote", "v1")]
    v1 = cmp[("vote", "v1")]
    assert (v1["baseline_arm"], v1["streaming_arm"]) == ("vote-standard", "vote-streaming")
    assert v1["ready_p50_speedup"] == pytest.approx(21.0 / 6.5)
    front = v1["components"]["azure-vote-front"]
    assert front["pull_p50_speedup"] == pytest.approx(34.738162 / 8.011045191)
    # The whole app (front and redis, every replica): last Ready 37 s / 10 s after the first creation.
    assert v1["speedup"]["per_trial"] == [{"trial": None, "baseline": 37.0, "streaming": 10.0, "ratio": 3.7}]
    assert v1["speedup"]["n_trials"] == 1 and v1["speedup"]["estimate"] == pytest.approx(3.7)
    assert v1["speedup"]["ci95"] is None and v1["warnings"]  # one trial: no interval, and a warning
    slow = cmp[("largeimage", "slow")]
    assert slow["ready_p50_speedup"] == pytest.approx(64.0 / 3.0)  # a description of pods, not the headline
    # The trial holds a warm pod, the 10-replica one a failed pull, the squashed one a pod without events.
    assert slow["speedup"]["n_trials"] == 0 and slow["speedup"]["excluded_trials"] == {"warm": 1}
    assert cmp[("largeimage", "fast-10x")]["speedup"]["excluded_trials"] == {"failed": 1}
    assert cmp[("vote", "squashed")]["speedup"]["excluded_trials"] == {"unknown": 1}
    # kubectl dumps carry no ARM or node state: nothing is verified, and nothing claims to be.
    assert v1["verified"]["streaming"] is None and v1["verified"]["cold"] is None and v1["verified"]["reasons"]


def test_container_details(report):
    pods = {p["name"]: p for p in report["pods"]}
    slow = [p for p in pods.values() if p["arm"] == "large-slow-standard"]
    cold = next(p for p in slow if p["class"] == "cold")
    warm = next(p for p in slow if p["class"] == "warm")
    assert cold["containers"][0]["image_size_bytes"] == 5243924480
    assert cold["containers"][0]["pull_including_waiting_seconds"] == pytest.approx(61.482)
    assert warm["containers"][0]["cold"] is False and warm["containers"][0]["pull_seconds"] is None
    failed = next(p for p in pods.values() if p["class"] == "failed")
    assert failed["containers"][0]["failed"] is True and failed["ready_seconds"] is None and not failed["ready"]
    unknown = next(p for p in pods.values() if p["class"] == "unknown")
    assert unknown["containers"][0]["cold"] is None and unknown["ready_seconds"] == 33.0
    # The redis Pulled event without involvedObject.uid still matched its pod by name.
    back = next(p for p in pods.values() if p["arm"] == "vote-streaming" and "back" in p["name"])
    assert back["containers"][0]["pull_seconds"] == pytest.approx(1.104577)


def test_selector_and_namespace_filters_apply_to_dumps():
    loaded = load_dumps(
        [str(FIXTURES / "pods.json")],
        [str(FIXTURES / "events.json")],
        namespaces=["streaming-ab"],
        selector="streaming-ab/arm in (vote-standard,vote-streaming)",
    )
    r = build_report(loaded.pods, loaded.events)
    assert sorted(r["arms"]) == ["vote-standard", "vote-streaming"]
    loaded = load_dumps([str(FIXTURES / "pods.json")], [str(FIXTURES / "events.json")], namespaces=["kube-system"])
    assert build_report(loaded.pods, loaded.events)["pods"] == []
    loaded = load_dumps(
        [str(FIXTURES / "pods.json")], [], selector="streaming-ab/streaming=true,streaming-ab/workload!=vote"
    )
    assert sorted(build_report(loaded.pods, loaded.events)["arms"]) == ["large-fast-streaming", "large-slow-streaming"]


def test_without_events_every_pod_is_no_pull_event():
    loaded = load_dumps([str(FIXTURES / "pods.json")], [])
    r = build_report(loaded.pods, loaded.events)
    assert all(
        a["cold_pods"] == 0 and a["warm_pods"] == 0 and a["unknown_pods"] == a["pods"] for a in r["arms"].values()
    )
    assert all(a["ready_seconds"]["n"] == 0 and a["ready_seconds"]["p50"] is None for a in r["arms"].values())
    assert all(c["ready_p50_speedup"] is None for c in r["comparisons"])


def test_pairing_rules():
    from datetime import datetime

    from timing.model.pods import PodInfo

    t = datetime(2024, 1, 1, tzinfo=UTC)

    def p(arm, streaming, pair=None, workload="w"):
        labels = {"streaming-ab/arm": arm, "streaming-ab/workload": workload}
        if streaming is not None:
            labels["streaming-ab/streaming"] = streaming
        if pair:
            labels["streaming-ab/pair"] = pair
        return PodInfo("ns", arm + "-x", arm, labels, None, None, t, None, None, ())

    r = build_report(
        [p("a", "false"), p("b", "true"), p("c", "true", pair="x"), p("d", "maybe"), p("e", "false", workload="other")],
        [],
    )
    pairs = [(c["baseline_arm"], c["streaming_arm"]) for c in r["comparisons"]]
    assert pairs == [("a", "b")]  # c has another pair, d has no side, e another workload
