import json
from datetime import UTC

import pytest

from tests.conftest import TIMING_FIXTURES
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
    "streamed",
    "streaming_evidence",
    "bytes_fetched",
    "aks_conditions",
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
    "bytes_fetched",
    "pull_seconds",
    "ready_seconds",
    "app_ready_seconds",
}
STAT_KEYS = {"n", "min", "p50", "p90", "p95", "p99", "max", "mean"}
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
    "speedup_median_pod",
    "replicas",
    "pods_per_node",
    "trial_flags",
    "flags",
}
SPEEDUP_KEYS = {
    "metric",
    "per_trial",
    "n_trials",
    "estimate",
    "ci95",
    "trials_needed",
    "trials_needed_range",
    "excluded_trials",
    "clock_widened",
    "clock_resolution_seconds",
    "drift",
    "left_out_trials",
}


@pytest.fixture(scope="module")
def report():
    loaded = load_dumps(
        [str(TIMING_FIXTURES / "pods.json")],
        [str(TIMING_FIXTURES / "events.json"), str(TIMING_FIXTURES / "events-k8s-io.json")],
    )
    info = json.loads((TIMING_FIXTURES / "image-info.json").read_text())
    return build_report(loaded.pods, loaded.events, image_info=info)


def test_contract_keys(report):
    assert report["schema"] == SCHEMA
    assert set(report) >= {"schema", "pods", "arms", "comparisons"}
    for p in report["pods"]:
        assert set(p) >= POD_KEYS
        assert p["streamed"] in (True, False, None) and isinstance(p["streaming_evidence"], list)
        for c in p["containers"]:
            assert set(c) >= CONTAINER_KEYS
            assert c["cold"] in (True, False, None) and isinstance(c["failed"], bool)
    for a in report["arms"].values():
        assert set(a) >= ARM_KEYS
        assert set(a["bytes_fetched"]) == {"bytes", "image_size_bytes", "fraction", "readings"}
        assert set(a["pull_seconds"]) == STAT_KEYS and set(a["ready_seconds"]) == STAT_KEYS
    for c in report["comparisons"]:
        assert set(c) >= CMP_KEYS
        assert set(c["speedup"]) == SPEEDUP_KEYS and c["speedup"]["metric"] == "arm_ready"
        assert set(c["verified"]) == {"streaming", "configured", "cold", "reasons", "contradicted"}
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
        "p95": None,
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
    # The dump holds several rollouts (creations more than 60 s apart): each is its own trial.
    assert v1["speedup"]["per_trial"] == [{"trial": "rollout-2", "baseline": 37.0, "streaming": 10.0, "ratio": 3.7}]
    # One trial is one observation: no estimate, no interval, and a warning saying so.
    assert v1["speedup"]["n_trials"] == 1 and v1["speedup"]["estimate"] is None
    assert v1["speedup"]["ci95"] is None and v1["warnings"][0].startswith("one trial: no estimate")
    assert v1["replicas"] == {"baseline": 2, "streaming": 2} and v1["pods_per_node"] == {"baseline": 2, "streaming": 2}
    slow = cmp[("largeimage", "slow")]
    assert slow["ready_p50_speedup"] == pytest.approx(64.0 / 3.0)  # a description of pods, not the headline
    # The warm pod was created 3 min after the others: a rollout of its own, found in one arm only.
    assert slow["speedup"]["n_trials"] == 1 and slow["speedup"]["excluded_trials"] == {"arm-missing": 1}
    assert cmp[("largeimage", "fast-10x")]["speedup"]["excluded_trials"] == {"failed": 1}
    # The squashed standard arm's front pod created 3 h earlier is another rollout, not part of this trial.
    assert cmp[("vote", "squashed")]["speedup"]["excluded_trials"] == {"arm-missing": 1}
    # Each trial left out is named with its reasons, so a picture of that trial can say why.
    assert slow["speedup"]["left_out_trials"] == [{"trial": "rollout-5", "reasons": ["arm-missing"]}]
    assert cmp[("largeimage", "fast-10x")]["speedup"]["left_out_trials"] == [
        {"trial": "rollout-6", "reasons": ["failed"]}
    ]
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
        [str(TIMING_FIXTURES / "pods.json")],
        [str(TIMING_FIXTURES / "events.json")],
        namespaces=["streaming-ab"],
        selector="streaming-ab/arm in (vote-standard,vote-streaming)",
    )
    r = build_report(loaded.pods, loaded.events)
    assert sorted(r["arms"]) == ["vote-standard", "vote-streaming"]
    loaded = load_dumps(
        [str(TIMING_FIXTURES / "pods.json")], [str(TIMING_FIXTURES / "events.json")], namespaces=["kube-system"]
    )
    assert build_report(loaded.pods, loaded.events)["pods"] == []
    loaded = load_dumps(
        [str(TIMING_FIXTURES / "pods.json")], [], selector="streaming-ab/streaming=true,streaming-ab/workload!=vote"
    )
    assert sorted(build_report(loaded.pods, loaded.events)["arms"]) == ["large-fast-streaming", "large-slow-streaming"]


def test_without_events_every_pod_is_no_pull_event():
    loaded = load_dumps([str(TIMING_FIXTURES / "pods.json")], [])
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


# --- trials as the unit, on constructed dumps ---------------------------------------------------
def _trial(n, std_ready, stream_ready, replicas=2, extra=()):
    from offline.timing_dumps import BIG, pod, pulled

    pods, events = [], []
    base = 100.0 * n
    for i in range(replicas):
        for arm, streaming, ready, node in (
            ("a-std", False, std_ready, "std-0"),
            ("a-art", True, stream_ready, "art-0"),
        ):
            p = pod(
                f"{arm}-{n}-{i}",
                arm=arm,
                streaming=streaming,
                node=node,
                created=base + i,
                ready=base + ready + i,
                trial=n,
            )
            pods.append(p)
            events += pulled(p, BIG, base + i + 0.5, base + ready + i - 1)
    for make in extra:
        make(pods, events, base)
    return pods, events


def _report(*trials, **kw):
    from offline.timing_dumps import load

    pods, events = [], []
    for ps, es in trials:
        pods += ps
        events += es
    p, e = load(pods, events)
    return build_report(p, e, **kw)


def test_arm_ready_is_last_ready_minus_first_created_per_trial():
    r = _report(_trial(1, 40, 10), _trial(2, 44, 11), _trial(3, 42, 10.5))
    a = r["arms"]["a-std"]
    assert [t["trial"] for t in a["trials"]] == ["1", "2", "3"]
    # Replica 1 is created 1 s after replica 0 and is Ready 1 s later: the arm took ready + 1 s.
    assert [t["arm_ready_seconds"] for t in a["trials"]] == [41.0, 45.0, 43.0]
    sp = r["comparisons"][0]["speedup"]
    ratios = [41 / 11, 45 / 12, 43 / 11]  # stream: 10, 11, 10 (whole seconds) + 1
    assert [t["ratio"] for t in sp["per_trial"]] == pytest.approx(ratios)
    import math

    assert sp["estimate"] == pytest.approx(math.exp(sum(math.log(x) for x in ratios) / 3))
    lo, hi = sp["ci95"]
    assert lo < sp["estimate"] < hi and sp["n_trials"] == 3 and sp["trials_needed"] >= 2
    # Arm-ready is read from whole-second clocks: the interval is widened for it, and says so.
    assert r["comparisons"][0]["warnings"] == ["interval widened by the 1 s resolution of the clocks behind arm-ready"]


def test_a_trial_with_a_warm_or_restarted_pod_is_left_out_and_counted():
    from offline.timing_dumps import BIG, pod, present

    def warm_pod(pods, events, base):
        p = pod("a-art-warm", arm="a-art", streaming=True, node="art-1", created=base, ready=base + 2, trial=2)
        pods.append(p)
        events.extend(present(p, BIG, base + 1))

    def restarted(pods, events, base):
        p = pod("a-std-r", arm="a-std", node="std-1", created=base, ready=base + 90, trial=3, restarts=2)
        pods.append(p)

    r = _report(_trial(1, 40, 10), _trial(2, 40, 10, extra=[warm_pod]), _trial(3, 40, 10, extra=[restarted]))
    sp = r["comparisons"][0]["speedup"]
    assert [t["trial"] for t in sp["per_trial"]] == ["1"]
    assert sp["excluded_trials"] == {"restarted": 1, "warm": 1}
    assert r["arms"]["a-art"]["excluded"] == {"warm": 1} and r["arms"]["a-std"]["excluded"] == {"restarted": 1}
    # Pod figures cover cold pods only: the 2 s warm pod is not in the streaming arm's Ready p50.
    assert r["arms"]["a-art"]["ready_seconds"]["min"] == 10.0


def test_failures_are_a_rate_not_a_silent_drop():
    from offline.timing_dumps import BIG, failed, pod

    def broken(pods, events, base):
        p = pod("a-art-f", arm="a-art", streaming=True, node="art-0", created=base, trial=1)
        pods.append(p)
        events.extend(failed(p, BIG, base + 2))

    r = _report(_trial(1, 40, 10, extra=[broken]))
    art = r["arms"]["a-art"]
    assert art["failed_pods"] == 1 and art["failure_rate"] == pytest.approx(1 / 3)
    assert r["comparisons"][0]["speedup"]["excluded_trials"] == {"failed": 1}


def test_app_ready_speedup_from_the_images_own_log_line():
    from offline.timing_dumps import at, load

    pods, events = _trial(1, 40, 10)
    p, e = load(pods, events)
    for info in p:
        # The streamed image defers the read: its app is ready 30 s after Ready, the standard one 2 s after.
        delay = 30 if info.streaming else 2
        info.app_ready_at = info.ready_at + (at(delay) - at(0))
    r = build_report(p, e)
    app = r["comparisons"][0]["app_speedup"]
    assert app["metric"] == "arm_app_ready"
    assert app["per_trial"][0]["baseline"] == 43.0 and app["per_trial"][0]["streaming"] == 41.0
    assert r["arms"]["a-art"]["app_ready_seconds"]["p50"] == 40.0


def test_a_comparison_without_app_signal_has_no_app_speedup():
    assert _report(_trial(1, 40, 10))["comparisons"][0]["app_speedup"] is None


def test_a_pull_on_a_coarser_clock_widens_that_pod_s_resolution_only():
    from dataclasses import replace

    from offline.timing_dumps import BIG, load, pod, pulled

    coarse, fine = pod("c1", created=0, ready=20), pod("c2", created=0, ready=20)
    pods, events = load([coarse, fine], pulled(coarse, BIG, 1, 10) + pulled(fine, BIG, 1, 10))
    # No event source reads a clock coarser than a second today; one that did must show in its pod alone.
    events = [replace(ev, resolution=2.0) if ev.pod_name == "c1" else ev for ev in events]
    by_name = {p["name"]: p["resolution_seconds"] for p in build_report(pods, events)["pods"]}
    assert by_name["c1"]["pull_start_seconds"] == 2.0 and by_name["c1"]["pull_end_seconds"] == 2.0
    assert by_name["c2"]["pull_start_seconds"] == 1.0 and by_name["c2"]["pull_end_seconds"] == 1.0
    assert by_name["c1"]["ready_seconds"] == by_name["c2"]["ready_seconds"] == 1.0


def test_events_handed_over_are_let_go_before_the_pods_entries_are_made(monkeypatch):
    """The pods' entries are the report's largest moment (100 000 pods): the events, needed only to
    classify the pods, must be freed by then when the caller no longer holds them (Loaded.take_events)."""
    import weakref

    from timing.analysis import report as module

    class Events(list):  # a list subclass, so it can be watched with a weak reference
        pass

    loaded = load_dumps(
        [str(TIMING_FIXTURES / "pods.json")],
        [str(TIMING_FIXTURES / "events.json"), str(TIMING_FIXTURES / "events-k8s-io.json")],
    )
    loaded.events = Events(loaded.events)
    watched = weakref.ref(loaded.events)
    seen_alive = []
    make_entries = module._pods_json

    def spy(*args, **kwargs):
        seen_alive.append(watched() is not None)
        return make_entries(*args, **kwargs)

    monkeypatch.setattr(module, "_pods_json", spy)
    doc = build_report(loaded.pods, loaded.take_events())
    assert seen_alive == [False] and loaded.events == []
    assert len(doc["pods"]) == 32
