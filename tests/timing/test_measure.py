import json

import pytest

from offline.clock import FakeClock
from offline.kube_cluster import FakeCluster, FakeStack, counter_ids, default_pools, vote_workloads
from timing.analysis.report import build_report
from timing.measure.discovery import ResetError, TrialError, discover, plan_rounds
from timing.measure.prober import NodeProber
from timing.measure.resets import NoReset, PurgeReset, RecycleReset
from timing.measure.runner import Runner
from timing.sources.results import load_results


class RecordingProgress:
    def __init__(self):
        self.lines, self.total, self.advanced, self.stopped = [], None, 0, False

    def start(self, total):
        self.total = total

    def update(self, text):
        self.lines.append(text)

    def advance(self):
        self.advanced += 1

    def stop(self):
        self.stopped = True


PROBE_IMAGE = "acr.azurecr.io/busybox@sha256:" + "b" * 64


def setup(replicas=1, workloads=None, pools=None):
    clock = FakeClock()
    cluster = FakeCluster(clock, pools or default_pools(), workloads or vote_workloads(replicas))
    return clock, cluster


def runner(cluster, clock, resetter, tmp_path, **kw):
    return Runner(
        cluster,
        resetter,
        clock,
        tmp_path / "results",
        timeout=kw.pop("timeout", 300),
        poll=1.0,
        progress=kw.pop("progress", RecordingProgress()),
        id_factory=counter_ids(),
        **kw,
    )


def test_purge_trials_are_cold_and_snapshotted(tmp_path):
    clock, cluster = setup(replicas=2)
    # The experiment was running before: images are on the nodes already.
    for d in cluster.deployments.values():
        cluster.scale_deployment("streaming-ab", d["name"], d["replicas"])
    clock.t += 60
    progress = RecordingProgress()
    purge = PurgeReset(cluster, clock, timeout=120, poll=1.0, id_factory=counter_ids("p"))
    r = runner(cluster, clock, purge, tmp_path, progress=progress)
    manifests = r.run(discover(cluster, ["streaming-ab"], None, None, None), trials=2)
    assert [m["verdict"] for m in manifests] == ["cold", "cold"]
    # The first trial is flagged on purpose (the registry side may still be warming), and only it.
    assert [m["flagged"] for m in manifests] == [True, False] and not any(m["unexpected"] for m in manifests)
    assert manifests[0]["first_trial"] and "first trial" in manifests[0]["reasons"][0]
    m = manifests[0]
    assert [p["phase"] for p in m["phases"]] == [
        "scale-down",
        "wait-gone",
        "reset",
        "label",
        "check-nodes",
        "scale-up",
        "wait-ready",
        "snapshot",
        "verify",
    ]
    assert m["reset_details"]["reset"] == "purge" and m["reset_details"]["daemonset"] == "streaming-ab-purge-p-001"
    assert cluster.daemonsets == {}  # deleted after every purge
    # Scale-up patches of both arms went out back to back at the same instant.
    ups = [c for c in cluster.scale_calls if c[2] > 0]
    first_trial_ups = ups[4:8]
    assert len({t for t, _, _ in first_trial_ups}) == 1
    folder = tmp_path / "results" / "trial-001"
    assert json.loads((folder / "trial.json").read_text())["index"] == 1
    pods = json.loads((folder / "pods.json").read_text())
    events = json.loads((folder / "events.json").read_text())
    assert pods["kind"] == "List" and len(pods["items"]) == 8 and events["items"]
    assert progress.total == 2 and progress.advanced == 2 and progress.stopped
    assert any("trial 1/2" in line and "Ready:" in line and "vote-standard" in line for line in progress.lines)
    # Waiting loops list pods once per namespace per poll, with one selector, never per pod.
    pod_lists = [c for c in cluster.list_calls if c[0] == "pods" and "arm in" in (c[2] or "")]
    assert all(
        c[2] == "app.kubernetes.io/part-of=acr-streaming-ab,streaming-ab/arm in (vote-standard,vote-streaming)"
        for c in pod_lists
    )
    # report --results reads what measure wrote.
    loaded = load_results([str(tmp_path / "results")])
    rep = build_report(loaded.pods, loaded.events, trials=loaded.trials, evidence=loaded.evidence)
    assert rep["arms"]["vote-standard"]["cold_pods"] == 8 and rep["arms"]["vote-streaming"]["cold_pods"] == 8
    assert rep["arms"]["vote-standard"]["ready_seconds"]["p50"] == 32.0  # 1 + 30 s pull + 1
    assert rep["arms"]["vote-streaming"]["ready_seconds"]["p50"] == 7.0
    assert rep["comparisons"][0]["ready_p50_speedup"] == pytest.approx(32 / 7)
    assert [t["verdict"] for t in rep["trials"]] == ["cold", "cold"]
    # The first trial is flagged (warm-up) and left out of the headline by default, counted by reason.
    sp = rep["comparisons"][0]["speedup"]
    assert sp["n_trials"] == 1 and sp["estimate"] is None and sp["excluded_trials"] == {"warm_up": 1}
    # Put back: two trials, each the unit, their geometric mean with a t interval.
    rep = build_report(loaded.pods, loaded.events, trials=loaded.trials, evidence=loaded.evidence, include_flagged=True)
    sp = rep["comparisons"][0]["speedup"]
    assert sp["n_trials"] == 2 and [t["ratio"] for t in sp["per_trial"]] == [pytest.approx(32 / 7)] * 2
    assert sp["per_trial"][0]["flags"] == ["warm_up"]
    # No spread in a fake cluster, yet never a zero-width interval: whole-second clocks widen it.
    lo, hi = sp["ci95"]
    assert lo < 32 / 7 < hi and sp["clock_widened"]
    # Every pod carries its trial's label; nodes were read before scale-up and held no arm image.
    assert {p["trial"] for p in rep["pods"]} == {"trial-001", "trial-002"}
    assert cluster.label_calls and {v for _n, k, v in cluster.label_calls if k == "streaming-ab/trial"} == {"1", "2"}
    verified = rep["comparisons"][0]["verified"]
    assert verified["cold"] is True
    assert verified["streaming"] is None  # no --stack: the pools' ARM flag and the artifacts were not read
    assert m["nodes"]["vote-streaming"] and m["scale_order"] and "seed" in m


def test_a_reset_that_leaves_images_flags_the_trial_warm(tmp_path):
    clock, cluster = setup()
    cluster.purge_broken = True  # DaemonSet reports success but the cache survives
    purge = PurgeReset(cluster, clock, timeout=120, poll=1.0)
    manifests = runner(cluster, clock, purge, tmp_path).run(discover(cluster, ["streaming-ab"], None, None, None), 2)
    assert manifests[0]["verdict"] == "cold" and not manifests[0]["unexpected"]
    second = manifests[1]
    assert second["verdict"] == "warm" and second["flagged"] and second["unexpected"]
    # Both signals: the nodes held the images before scale-up, and kubelet found them present.
    assert any("already held acr.azurecr.io/azure-vote-front:v1" in r for r in second["reasons"])
    assert any("warm pod(s)" in r for r in second["reasons"])
    loaded = load_results([str(tmp_path / "results")])
    rep = build_report(loaded.pods, loaded.events, trials=loaded.trials)
    # Recorded, flagged, and the warm pods never reach the cold statistics.
    assert rep["arms"]["vote-standard"]["warm_pods"] == 2 and rep["arms"]["vote-standard"]["cold_pods"] == 2
    assert rep["trials"][1]["flagged"] is True
    # Flagged trials are out of the headline by default, the first one too (registry warming).
    sp = rep["comparisons"][0]["speedup"]
    assert sp["n_trials"] == 0 and sp["excluded_trials"] == {"warm": 1, "warm_up": 1}
    assert [t["included"] for t in rep["trials"]] == [False, False]
    assert rep["comparisons"][0]["trial_flags"]["trial-002"] == ["contradicted"]


def test_recycle_bumps_generation_and_waits_for_fresh_nodes(tmp_path):
    clock, cluster = setup()
    stack = FakeStack(cluster, clock)
    out = []
    old = {n["uid"] for n in cluster.nodes}
    recycle = RecycleReset(stack, cluster, clock, timeout=600, poll=5.0, on_output=out.append)
    manifests = runner(cluster, clock, recycle, tmp_path).run(discover(cluster, ["streaming-ab"], None, None, None), 2)
    assert stack.generation == 5 and stack.ups == 2
    assert [m["reset_details"]["cache_generation"] for m in manifests] == [4, 5]
    assert all(m["verdict"] == "cold" for m in manifests)
    assert not old & {n["uid"] for n in cluster.nodes}
    assert out and "Updating" in out[0]
    # Fresh nodes took 30 s to become Ready; scale-up waited for them.
    reset_phase = next(p for p in manifests[0]["phases"] if p["phase"] == "reset")
    up_phase = next(p for p in manifests[0]["phases"] if p["phase"] == "scale-up")
    assert up_phase["elapsed_seconds"] - reset_phase["elapsed_seconds"] >= 240 + 30


def test_recycle_that_keeps_old_nodes_fails_the_run(tmp_path):
    clock, cluster = setup()
    stack = FakeStack(cluster, clock)
    stack.replace = False  # e.g. the component ignored cacheGeneration
    recycle = RecycleReset(stack, cluster, clock, timeout=60, poll=5.0)
    with pytest.raises(ResetError, match="old node"):
        runner(cluster, clock, recycle, tmp_path).run(discover(cluster, ["streaming-ab"], None, None, None), 1)
    m = json.loads((tmp_path / "results" / "trial-001" / "trial.json").read_text())
    assert m["verdict"] == "reset-failed" and m["flagged"]
    # Deployments are left scaled up again after the failure.
    assert all(d["replicas"] == 1 for d in cluster.deployments.values())


def test_purge_failure_on_a_node_stops_the_run(tmp_path):
    clock, cluster = setup()
    cluster.purge_fail_nodes = {cluster.nodes[1]["name"]}
    purge = PurgeReset(cluster, clock, timeout=120, poll=1.0)
    with pytest.raises(ResetError, match=cluster.nodes[1]["name"]):
        runner(cluster, clock, purge, tmp_path).run(discover(cluster, ["streaming-ab"], None, None, None), 3)
    assert cluster.daemonsets == {}  # cleaned up even on failure
    assert len(list((tmp_path / "results").iterdir())) == 1


def test_timeout_when_a_pull_fails(tmp_path):
    clock, cluster = setup()
    cluster.failing_images = {"acr.azurecr.io/redis:6.0.8"}
    r = runner(cluster, clock, PurgeReset(cluster, clock, 60, 1.0), tmp_path, timeout=90)
    (m,) = r.run(discover(cluster, ["streaming-ab"], None, None, None), 1)
    assert m["flagged"] and m["verdict"] == "failed"
    assert any(x.startswith("timeout: 2 pod(s) not Ready") for x in m["reasons"])
    wait = [p for p in m["phases"] if p["phase"] in ("wait-ready", "snapshot")]
    assert wait[1]["elapsed_seconds"] - wait[0]["elapsed_seconds"] >= 90


def test_warm_mode_primes_then_expects_warm(tmp_path):
    clock, cluster = setup()
    manifests = runner(cluster, clock, NoReset(), tmp_path, warm=True).run(
        discover(cluster, ["streaming-ab"], None, None, None), 2
    )
    assert [(m["verdict"], m["flagged"], m["mode"], m["reset"]) for m in manifests] == [
        ("warm", False, "warm", "none")
    ] * 2
    loaded = load_results([str(tmp_path / "results")])
    rep = build_report(loaded.pods, loaded.events)
    assert rep["arms"]["vote-standard"]["warm_pods"] == 4 and rep["arms"]["vote-standard"]["cold_pods"] == 0
    assert rep["arms"]["vote-standard"]["warm_ready_seconds"]["p50"] is not None


def test_warm_mode_flags_a_cold_pod(tmp_path):
    clock, cluster = setup(pools={"std": {"streaming": False, "nodes": 2}, "art": {"streaming": True, "nodes": 1}})
    # Two nodes in the standard pool: the re-created pod lands on the other,
    # empty node (round-robin in the fake) and pulls again.
    manifests = runner(cluster, clock, NoReset(), tmp_path, warm=True).run(
        discover(cluster, ["streaming-ab"], None, None, None), 1
    )
    assert manifests[0]["flagged"] and manifests[0]["verdict"] == "cold"


def test_discover_and_workload_filter():
    clock, cluster = setup()
    ws = discover(cluster, ["streaming-ab"], None, None, None)
    assert [w.name for w in ws] == ["vote"]
    arms = ws[0].arms
    assert sorted(arms) == ["vote-standard", "vote-streaming"]
    assert arms["vote-streaming"].streaming is True and len(arms["vote-streaming"].deployments) == 2
    with pytest.raises(TrialError, match="nosuch"):
        discover(cluster, ["streaming-ab"], None, ["nosuch"], None)
    for d in cluster.deployments.values():
        d["replicas"] = 0
    with pytest.raises(TrialError, match="--replicas"):
        discover(cluster, ["streaming-ab"], None, None, None)
    assert discover(cluster, ["streaming-ab"], None, None, 3)[0].arms["vote-standard"].expected_pods == 6


def test_workloads_sharing_an_image_go_to_separate_rounds(tmp_path):
    shared = "acr.azurecr.io/redis:6.0.8"
    workloads = vote_workloads() + [
        {
            "name": "cache",
            "pair": "c1",
            "components": {"redis": shared},
            "arms": [
                {"name": "cache-standard", "streaming": False, "pool": "std"},
                {"name": "cache-streaming", "streaming": True, "pool": "art"},
            ],
        },
        {
            "name": "big",
            "pair": "b1",
            "components": {"big": "acr.azurecr.io/big:v1"},
            "arms": [
                {"name": "big-standard", "streaming": False, "pool": "std"},
                {"name": "big-streaming", "streaming": True, "pool": "art"},
            ],
        },
    ]
    clock, cluster = setup(workloads=workloads)
    ws = discover(cluster, ["streaming-ab"], None, None, None)
    rounds = plan_rounds(ws)
    assert [[w.name for w in r["workloads"]] for r in rounds] == [["big", "cache"], ["vote"]]
    assert any("shares acr.azurecr.io/redis:6.0.8" in n for n in rounds[1]["notes"])
    manifests = runner(cluster, clock, PurgeReset(cluster, clock, 60, 1.0), tmp_path).run(ws, 1)
    assert sorted(m["round"] for m in manifests) == [1, 2]  # in a random order, recorded
    assert all(m["verdict"] == "cold" for m in manifests), [m["reasons"] for m in manifests]
    assert manifests[1]["notes"]


def test_other_rounds_on_the_same_pools_stay_at_zero_while_a_round_runs(tmp_path):
    """Crossover-style runs: workloads sharing an image on one pair of pools run in separate rounds, and
    the other round's pods must not sit on the fresh nodes (they would pull the image first)."""
    shared = "acr.azurecr.io/x:1"
    workloads = [
        {
            "name": name,
            "pair": "crossover",
            "components": {name: shared},
            "arms": [
                {"name": f"{name}-standard", "streaming": False, "pool": "std"},
                {"name": f"{name}-streaming", "streaming": True, "pool": "art"},
            ],
        }
        for name in ("x-read-1", "x-read-25")
    ]
    clock, cluster = setup(workloads=workloads)
    ws = discover(cluster, ["streaming-ab"], None, None, None)
    assert len(plan_rounds(ws)) == 2
    running_at_scale_up: list[set[str]] = []
    original = cluster.scale_deployment

    def scale(ns, name, replicas):
        original(ns, name, replicas)
        if replicas:
            running_at_scale_up.append({d["name"] for d in cluster.deployments.values() if d["replicas"]})

    cluster.scale_deployment = scale
    manifests = runner(cluster, clock, PurgeReset(cluster, clock, 60, 1.0), tmp_path).run(ws, 1)
    for m in manifests:
        assert len(m["idle_arms"]) == 2 and not set(m["idle_arms"]) & set(m["scale_order"]), m
    # The first Deployment scaled up finds every other one at 0 (without the rule: the other round's two).
    assert len(running_at_scale_up[0]) == 1, running_at_scale_up[0]
    assert all(d["replicas"] for d in cluster.deployments.values())  # the run leaves every arm running


def test_pods_that_never_go_away_abort(tmp_path):
    clock, cluster = setup()
    for d in cluster.deployments.values():
        cluster.scale_deployment("streaming-ab", d["name"], 1)
    for p in cluster.pods:
        p["gone_at"] = None  # stuck terminating forever
    original = cluster.scale_deployment

    def scale(ns, name, replicas):
        original(ns, name, replicas)
        for p in cluster.pods:
            p["gone_at"] = None

    cluster.scale_deployment = scale
    with pytest.raises(TrialError, match="still present"):
        runner(cluster, clock, NoReset(), tmp_path, timeout=30).run(
            discover(cluster, ["streaming-ab"], None, None, None), 1
        )
    m = json.loads((tmp_path / "results" / "trial-001" / "trial.json").read_text())
    assert m["verdict"] == "error"


def test_report_cli_reads_results(tmp_path, capsys):
    from timing.cli import main

    clock, cluster = setup()
    cluster.purge_broken = True
    runner(cluster, clock, PurgeReset(cluster, clock, 60, 1.0), tmp_path).run(
        discover(cluster, ["streaming-ab"], None, None, None), 2
    )
    assert main(["report", "--results", str(tmp_path / "results"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [t["flagged"] for t in doc["trials"]] == [True, True]  # the first trial is always flagged
    assert {p["trial"] for p in doc["pods"]} == {"trial-001", "trial-002"}
    assert main(["report", "--results", str(tmp_path / "results")]) == 0
    out = capsys.readouterr().out
    assert "trial trial-002 (#2) flagged, verdict warm" in out and "excluded" in out
    assert main(["report", "--results", str(tmp_path / "results"), "--include-flagged", "--json"]) == 0
    assert all(t["included"] for t in json.loads(capsys.readouterr().out)["trials"])


def test_measure_verifies_streaming_before_each_trial_and_records_a_seeded_order(tmp_path):
    clock, cluster = setup()
    asked = []

    def evidence_reader(pools):
        asked.append(pools)
        images = {"acr.azurecr.io/azure-vote-front:v1": True, "acr.azurecr.io/redis:6.0.8": True}
        return {"art": True, "std": False}, images

    cluster.app_read_seconds = 4.0
    prober = NodeProber(cluster, clock, PROBE_IMAGE, 60, 1.0)
    purge = PurgeReset(cluster, clock, 60, 1.0)
    r = runner(cluster, clock, purge, tmp_path, evidence_reader=evidence_reader, seed=7, prober=prober)
    manifests = r.run(discover(cluster, ["streaming-ab"], None, None, None), 3)
    assert asked == [["art", "std"]] * 3  # before every trial
    assert all(m["verified"]["vote-standard vs vote-streaming"]["streaming"] is True for m in manifests)
    assert all(m["seed"] == 7 for m in manifests)
    # The scale-up order is drawn per trial; the recorded seed reproduces it.
    assert all(sorted(m["scale_order"]) == ["vote-standard", "vote-streaming"] for m in manifests)
    clock2, cluster2 = setup()
    rerun = runner(cluster2, clock2, PurgeReset(cluster2, clock2, 60, 1.0), tmp_path / "again", seed=7)
    assert [m["scale_order"] for m in rerun.run(discover(cluster2, ["streaming-ab"], None, None, None), 3)] == [
        m["scale_order"] for m in manifests
    ]
    loaded = load_results([str(tmp_path / "results")])
    rep = build_report(loaded.pods, loaded.events, trials=loaded.trials, evidence=loaded.evidence)
    c = rep["comparisons"][0]
    assert c["verified"]["streaming"] is True and c["verified"]["cold"] is True
    # The fake images log their read: app readiness is 4 s after the container started.
    assert c["app_speedup"]["n_trials"] == 2 and c["app_speedup"]["excluded_trials"] == {"warm_up": 1}
    assert rep["arms"]["vote-streaming"]["app_ready_seconds"]["p50"] == pytest.approx(6.5 + 4.0 - 0.5, abs=1.0)


# --- the purge DaemonSet: own namespace, measured pools only, always removed ----------------------
def _extra_pool_cluster():

    pools = default_pools()
    pools["other"] = {"streaming": False, "nodes": 1}  # a pool no measured arm uses
    return setup(pools=pools)


def test_purge_runs_in_its_own_namespace_on_the_measured_pools_only(tmp_path):
    from timing.measure.purge import PURGE_NAMESPACE

    clock, cluster = _extra_pool_cluster()
    created = []
    original = cluster.create_daemonset

    def spy(namespace, body):
        created.append((namespace, body))
        original(namespace, body)

    cluster.create_daemonset = spy
    image = "acr.azurecr.io/library/busybox@sha256:" + "b" * 64
    purge = PurgeReset(cluster, clock, timeout=120, poll=1.0, image=image)
    runner(cluster, clock, purge, tmp_path).run(discover(cluster, ["streaming-ab"], None, None, None), 1)
    ((namespace, body),) = created
    assert namespace == PURGE_NAMESPACE
    spec = body["spec"]["template"]["spec"]
    (expression,) = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ][0]["matchExpressions"]
    assert expression == {"key": "streaming-ab/pool", "operator": "In", "values": ["art", "std"]}
    assert {t["value"] for t in spec["tolerations"]} == {"art", "std"}
    assert spec["initContainers"][0]["image"] == image
    other = next(n["name"] for n in cluster.nodes if n["pool"] == "other")
    assert not any(p["node"] == other for p in cluster.ds_pods)
    # The namespace (privileged Pod Security, confined there) is gone with the run.
    assert cluster.namespaces == {} and cluster.daemonsets == {}


def test_purge_deletion_is_retried_through_api_errors(tmp_path):
    clock, cluster = setup()
    cluster.delete_failures = 2
    purge = PurgeReset(cluster, clock, timeout=120, poll=1.0)
    manifests = runner(cluster, clock, purge, tmp_path).run(discover(cluster, ["streaming-ab"], None, None, None), 1)
    assert manifests[0]["verdict"] == "cold" and cluster.daemonsets == {}


def test_a_failed_purge_keeps_its_own_error_when_the_deletion_fails_too(tmp_path):
    clock, cluster = setup()
    cluster.purge_fail_nodes = {cluster.nodes[0]["name"]}
    cluster.delete_failures = 10
    purge = PurgeReset(cluster, clock, timeout=120, poll=1.0)
    with pytest.raises(ResetError) as raised:
        runner(cluster, clock, purge, tmp_path).run(discover(cluster, ["streaming-ab"], None, None, None), 1)
    message = str(raised.value)
    # The first error is the message; the leftover DaemonSet and how to remove it follow in the same line.
    assert message.startswith(f"purge failed on node(s) {cluster.nodes[0]['name']}")
    assert "could not be deleted" in message and "kubectl --namespace streaming-ab-purge delete daemonset" in message


def test_ctrl_c_keeps_the_trials_taken_and_removes_what_measure_created(tmp_path):
    clock, cluster = setup()
    purge = PurgeReset(cluster, clock, timeout=120, poll=1.0)
    r = runner(cluster, clock, purge, tmp_path)
    original = cluster.list_pods
    calls = {"n": 0}

    def interrupt_in_the_second_trial(namespace, selector):
        if "purge" in (selector or "") and r.taken:
            calls["n"] += 1
            raise KeyboardInterrupt
        return original(namespace, selector)

    cluster.list_pods = interrupt_in_the_second_trial
    with pytest.raises(KeyboardInterrupt):
        r.run(discover(cluster, ["streaming-ab"], None, None, None), 3)
    assert len(r.taken) == 1 and (tmp_path / "results" / "trial-001" / "trial.json").exists()
    assert cluster.daemonsets == {} and cluster.namespaces == {}
    assert all(d["replicas"] > 0 for d in cluster.deployments.values())  # scaled back up
