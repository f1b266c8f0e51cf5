"""Issue 19: which trials count. Trials from dumps, flagged trials out by default, protocol checks,
the headline's shape. Constructed kubectl-shaped dumps (offline.timing_dumps), no cluster."""

import json

import pytest

from offline import kube_objects as kube
from offline.timing_dumps import BIG, load, pulled, unhealthy
from offline.timing_dumps import pod as dpod
from timing.analysis.report import build_report
from timing.errors import UsageError
from timing.sources.inputs import load_dumps


def _arm(prefix, arm, streaming, created, ready_after, n=2, node="n1", **kw):
    """``n`` replicas of one arm created at ``created``, pulled cold and Ready ``ready_after`` s later."""
    pods, events = [], []
    hash_ = kw.pop("template_hash", f"h{arm}{int(created)}")
    for i in range(n):
        p = dpod(
            f"{arm}-dep-{hash_}-{prefix}{i}",
            arm=arm,
            streaming=streaming,
            node=kw.get("nodes", [node] * n)[i],
            created=created,
            started=created + ready_after - 1,
            ready=created + ready_after,
            template_hash=hash_,
            **{k: v for k, v in kw.items() if k != "nodes"},
        )
        pods.append(p)
        events += pulled(p, BIG, created + 1, created + ready_after - 2)
    return pods, events


def _trial(t0, std_ready, stream_ready, n_std=2, n_stream=2, stream_offset=0.0, **kw):
    a, ae = _arm(f"t{int(t0)}", "a-std", False, t0, std_ready, n=n_std, **kw)
    b, be = _arm(f"t{int(t0)}", "a-art", True, t0 + stream_offset, stream_ready, n=n_stream, **kw)
    return a + b, ae + be


def _report(*trials, **kw):
    pods, events = [], []
    for ps, es in trials:
        pods += ps
        events += es
    return build_report(*load(pods, events), **kw)


def test_two_rollouts_20_minutes_apart_are_two_trials_not_one():
    r = _report(_trial(0, 40, 8), _trial(1200, 44, 8))
    sp = r["comparisons"][0]["speedup"]
    assert [t["trial"] for t in sp["per_trial"]] == ["rollout-1", "rollout-2"]
    assert sp["n_trials"] == 2 and sp["estimate"] == pytest.approx((40 / 8 * 44 / 8) ** 0.5)


def test_a_rolling_update_inside_one_trial_is_refused_in_one_line():
    first, e1 = _arm("x", "a-std", False, 0, 40, template_hash="aaa")
    second, e2 = _arm("y", "a-std", False, 30, 40, template_hash="bbb")
    stream, e3 = _arm("z", "a-art", True, 0, 8)
    with pytest.raises(UsageError, match="two rollouts .* label each trial's pods streaming-ab/trial=<n>"):
        build_report(*load(first + second + stream, e1 + e2 + e3))


def test_a_terminating_pod_from_an_earlier_rollout_is_excluded_and_counted():
    pods, events = _trial(600, 40, 8)
    old = dpod("a-std-dep-old-1", created=0, started=5, ready=6, deleted=598, template_hash="old")
    r = _report((pods + [old], events + pulled(old, BIG, 1, 4)))
    assert r["arms"]["a-std"]["excluded"] == {"terminating": 1}
    sp = r["comparisons"][0]["speedup"]
    assert [t["ratio"] for t in sp["per_trial"]] == [pytest.approx(40 / 8)]


def test_a_flapped_pod_takes_its_trial_out_counted_as_flapped():
    good = _trial(0, 40, 8)
    flap_pods, flap_events = _trial(1200, 44, 8)
    flap_events += unhealthy(flap_pods[0], 1200 + 43)  # after its container started at +43
    sp = _report(good, (flap_pods, flap_events))["comparisons"][0]["speedup"]
    assert sp["n_trials"] == 1 and sp["excluded_trials"] == {"flapped": 1}


def test_the_same_pod_given_twice_counts_once():
    pods, events = _trial(0, 40, 8)
    r = _report((pods + [json.loads(json.dumps(pods[0]))], events))
    assert r["arms"]["a-std"]["pods"] == 2


def test_each_pods_events_pair_is_one_trial(tmp_path):
    files = []
    for i, t0 in enumerate((0, 5)):  # creations 5 s apart: one rollout by time, two dumps by the user's word
        pods, events = _trial(t0, 40 + i, 8)
        kube.write_list(tmp_path / f"pods{i}.json", pods)
        kube.write_list(tmp_path / f"events{i}.json", events)
        files.append((str(tmp_path / f"pods{i}.json"), str(tmp_path / f"events{i}.json")))
    loaded = load_dumps([p for p, _e in files], [e for _p, e in files])
    r = build_report(loaded.pods, loaded.events)
    assert [t["trial"] for t in r["comparisons"][0]["speedup"]["per_trial"]] == ["dump-1", "dump-2"]


@pytest.mark.parametrize(
    "trial, code",
    [
        (_trial(0, 40, 8, n_std=10, n_stream=1), "unequal_pods"),
        (_trial(0, 40, 8, stream_offset=30), "start_skew"),
        (_trial(0, 40, 8, pull_policy="Always"), "pull_always"),
    ],
)
def test_protocol_flags_leave_the_trial_out_and_count_it(trial, code):
    good = _trial(3600, 40, 8)
    r = _report(trial, good)
    c = r["comparisons"][0]
    assert c["speedup"]["n_trials"] == 1 and c["speedup"]["excluded_trials"] == {code: 1}
    assert c["trial_flags"] == {"rollout-1": [code]}
    back = _report(trial, good, include_flagged=True)["comparisons"][0]["speedup"]
    assert back["n_trials"] == 2 and back["per_trial"][0]["flags"] == [code]


def test_a_pod_on_a_node_of_another_pool_is_off_pool():
    nodes = [
        kube.node_object("n1", "u-n1", {"streaming-ab/pool": "std"}, ready=True, images=()),
        kube.node_object("n2", "u-n2", {"streaming-ab/pool": "std"}, ready=True, images=()),
    ]
    on = _trial(0, 40, 8, nodes=["n1", "n1"])  # the streaming arm's pods on a std node
    for p in on[0]:
        # Workload pods name their pool in the nodeSelector, as components.manifests writes it.
        p["spec"]["nodeSelector"] = {"streaming-ab/pool": p["metadata"]["labels"].pop("streaming-ab/pool")}
    r = _report(on, _trial(3600, 40, 8), nodes=nodes)
    assert r["comparisons"][0]["speedup"]["excluded_trials"] == {"off_pool": 2}


def test_fewer_pods_than_the_deployment_asked_for_is_missing_pods():
    pods, events = _trial(0, 40, 8)
    for p in pods:
        p["metadata"]["labels"]["streaming-ab/trial"] = "t1"
    manifest = [{"id": "t1", "flagged": False, "replicas": {"a-std": 3, "a-art": 2}}]
    r = build_report(*load(pods, events), trials=manifest)
    assert r["comparisons"][0]["speedup"]["excluded_trials"] == {"missing_pods": 1}


def test_measure_flags_are_reasons_and_out_by_default():
    trials = []
    pods, events = [], []
    for i, t0 in enumerate((0, 1200, 2400), start=1):
        ps, es = _trial(t0, 40, 8)
        for p in ps:
            p["metadata"]["labels"]["streaming-ab/trial"] = f"t{i}"
        pods, events = pods + ps, events + es
        trials.append({"id": f"t{i}", "index": i, "flagged": i != 2, "first_trial": i == 1, "verdict": "cold"})
    trials[2].update(verdict="reset-failed", unexpected=True)
    r = build_report(*load(pods, events), trials=trials)
    assert r["comparisons"][0]["speedup"]["excluded_trials"] == {"reset_failed": 1, "warm_up": 1}
    assert [t["included"] for t in r["trials"]] == [False, True, False]


def test_a_trial_flagged_without_a_reason_is_said_to_be_so_not_contradicted():
    from timing.analysis.protocol import FLAGGED_NO_REASON, manifest_flags
    from timing.rendering.definitions import CODES

    bare = {"id": "t8", "index": 8, "flagged": True, "verdict": "cold"}
    assert manifest_flags(bare) == [FLAGGED_NO_REASON] == ["flagged_no_reason"]
    assert manifest_flags(bare | {"unexpected": True}) == ["contradicted"]  # a reason recorded: still its own code
    assert "recorded no reason" in CODES[FLAGGED_NO_REASON]


def test_the_headline_shows_replicas_pods_per_node_and_the_median_pod_estimand():
    trials = [_trial(t0, 40, 8, n_std=4, n_stream=4, nodes=["n1", "n1", "n2", "n2"]) for t0 in (0, 1200, 2400)]
    c = _report(*trials)["comparisons"][0]
    assert c["replicas"] == {"baseline": 4, "streaming": 4} and c["pods_per_node"] == {"baseline": 2, "streaming": 2}
    median_pod = c["speedup_median_pod"]
    assert set(median_pod) == set(c["speedup"]) and median_pod["metric"] == "median_pod_ready"
    assert median_pod["n_trials"] == 3 and median_pod["estimate"] == pytest.approx(40 / 8)


def test_two_trials_warn_how_wide_the_interval_is():
    c = _report(_trial(0, 40, 8), _trial(1200, 60, 8))["comparisons"][0]
    assert any(w.startswith("two trials: the 95% interval spans") for w in c["warnings"])


def test_a_trend_over_the_trials_is_flagged_as_drift():
    trials = [_trial(1200 * i, 30 + 6 * i, 8) for i in range(6)]
    c = _report(*trials)["comparisons"][0]
    assert c["flags"] == ["drift"] and c["speedup"]["drift"]["flagged"]
    assert any(w.startswith("drift:") for w in c["warnings"])
