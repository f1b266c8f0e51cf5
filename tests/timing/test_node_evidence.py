"""Proof from the node, on the fake cluster: the probe decides `streamed`, never the configuration alone."""

import json

import pytest

from offline.clock import FakeClock
from offline.kube_cluster import FakeCluster, counter_ids, default_pools, vote_workloads
from timing.analysis.report import build_report
from timing.measure.discovery import discover
from timing.measure.probe import PROBE_NAMESPACE
from timing.measure.prober import NodeProber
from timing.measure.resets import PurgeReset
from timing.measure.runner import Runner
from timing.sources.results import load_results

PROBE_IMAGE = "acr.azurecr.io/busybox@sha256:" + "b" * 64
FRONT, REDIS = "acr.azurecr.io/azure-vote-front:v1", "acr.azurecr.io/redis:6.0.8"


class QuietProgress:
    def start(self, total):
        pass

    def update(self, text):
        pass

    def advance(self):
        pass

    def stop(self):
        pass


def _configured(pools):
    return {"art": True, "std": False}, {FRONT: True, REDIS: True}


def _run(tmp_path, cluster, clock, trials=2, probe=True, **kw):
    prober = NodeProber(cluster, clock, PROBE_IMAGE, 60, 1.0, id_factory=counter_ids("probe")) if probe else None
    purge = PurgeReset(cluster, clock, timeout=120, poll=1.0, id_factory=counter_ids("p"))
    runner = Runner(
        cluster,
        purge,
        clock,
        tmp_path / "results",
        timeout=300,
        poll=1.0,
        progress=QuietProgress(),
        id_factory=counter_ids(),
        evidence_reader=_configured,
        prober=prober,
        **kw,
    )
    manifests = runner.run(discover(cluster, ["streaming-ab"], None, None, None), trials)
    loaded = load_results([str(tmp_path / "results")])
    report = build_report(loaded.pods, loaded.events, trials=loaded.trials, evidence=loaded.evidence)
    return manifests, report


def _cluster():
    clock = FakeClock()
    return clock, FakeCluster(clock, default_pools(), vote_workloads())


def _pods(report, arm):
    return [p for p in report["pods"] if p["arm"] == arm]


def test_streaming_nodes_that_stream_verify_streaming(tmp_path):
    clock, cluster = _cluster()
    manifests, report = _run(tmp_path, cluster, clock)
    assert [m["verdict"] for m in manifests] == ["cold", "cold"]
    assert all(p["streamed"] is True for p in _pods(report, "vote-streaming"))
    evidence = _pods(report, "vote-streaming")[0]["streaming_evidence"]
    assert any("rootfs is on the overlaybd snapshotter" in line for line in evidence)
    assert any("6 overlaybd TCMU backstore(s)" in line for line in evidence)
    assert all(p["streamed"] is False for p in _pods(report, "vote-standard"))
    verified = report["comparisons"][0]["verified"]
    assert verified["streaming"] is True and verified["configured"] is True
    # Raw probe output is kept per node, per trial, per stage.
    node = cluster.nodes[1]["name"]
    raw = (tmp_path / "results" / "trial-001" / "probe" / "while-running" / f"{node}.txt").read_text()
    assert raw.startswith(f"node {node}\n") and "backstores 6" in raw
    assert (tmp_path / "results" / "trial-001" / "probe" / "after-reset" / f"{node}.txt").exists()
    # The probes went with their DaemonSets; the namespace at the end of the run.
    assert cluster.daemonsets == {} and PROBE_NAMESPACE not in cluster.namespaces


def test_a_silent_fallback_is_not_streamed_and_leaves_the_trial_out(tmp_path):
    clock, cluster = _cluster()
    cluster.fallback_pools = {"art"}  # AKS falls back to overlayfs without any error
    manifests, report = _run(tmp_path, cluster, clock)
    for p in _pods(report, "vote-streaming"):
        assert p["streamed"] is False
        assert any("zero overlaybd TCMU backstores" in line for line in p["streaming_evidence"])
        assert any("overlayfs snapshotter" in line for line in p["streaming_evidence"])
    comparison = report["comparisons"][0]
    assert comparison["verified"]["streaming"] is False and comparison["verified"]["configured"] is True
    assert comparison["speedup"]["excluded_trials"] == {"not_streamed": 2} and comparison["speedup"]["n_trials"] == 0
    assert all(m["verdict"] == "not-streaming" and m["unexpected"] for m in manifests)


def test_without_node_evidence_streamed_is_null_never_true(tmp_path):
    clock, cluster = _cluster()
    _manifests, report = _run(tmp_path, cluster, clock, probe=False)
    assert all(p["streamed"] is None for p in _pods(report, "vote-streaming"))
    verified = report["comparisons"][0]["verified"]
    assert verified["streaming"] is None and verified["configured"] is True
    # Unverified, not excluded: only the first trial's warm-up flag leaves one out (flagged trials are out by default).
    speedup = report["comparisons"][0]["speedup"]
    assert speedup["n_trials"] == 1 and speedup["excluded_trials"] == {"warm_up": 1}


def test_acr_nodemon_events_alone_are_evidence(tmp_path):
    clock, cluster = _cluster()
    cluster.nodemon_events = True
    _manifests, report = _run(tmp_path, cluster, clock, probe=False)
    for p in _pods(report, "vote-streaming"):
        assert p["streamed"] is True
        assert p["streaming_evidence"][0].startswith(
            f'acr-nodemon: Streaming enabled for "{p["containers"][0]["image"]}"'
        )
        # The kubelet's own "Pulling" stays the pull start (1 s after creation in the fake).
        assert p["containers"][0]["pull_start_seconds"] == pytest.approx(1.0, abs=1.0)


def test_a_purge_that_leaves_cached_blocks_flags_the_trial(tmp_path):
    clock, cluster = _cluster()
    cluster.purge_leaves_blocks = True
    manifests, _report = _run(tmp_path, cluster, clock)
    assert "reset_failed" not in manifests[0].get("flags", [])  # nothing was cached before the first trial
    second = manifests[1]
    assert second["flags"] == ["reset_failed"] and second["flagged"] and second["unexpected"]
    assert any(r.startswith("reset_failed: after the reset the probe still found") for r in second["reasons"])


def test_arms_on_different_node_images_flag_the_trial(tmp_path):
    clock, cluster = _cluster()
    cluster.node_image_versions = {"art": "AKSUbuntu-2204gen2containerd-202609.02.0"}
    manifests, report = _run(tmp_path, cluster, clock, trials=1)
    (m,) = manifests
    assert "node_image_mismatch" in m["flags"] and m["flagged"] and m["unexpected"]
    facts = m["node_facts"][cluster.nodes[1]["name"]]
    assert facts["node_image_version"] == "AKSUbuntu-2204gen2containerd-202609.02.0"
    assert facts["kubelet_version"] == "v1.33.2" and facts["vm_size"] == "Standard_D4ds_v5"
    assert facts["acr_mirror_version"] == "0.3.1" and facts["overlaybd_version"] == "1.0.15"
    assert any(w.startswith("node_image_mismatch: trial trial-001") for w in report["comparisons"][0]["warnings"])
    (trial,) = report["trials"]
    assert trial["flags"] == ["node_image_mismatch"] and trial["node_facts"] == m["node_facts"]


def test_bytes_fetched_per_arm_against_the_image_size(tmp_path):
    clock, cluster = _cluster()
    _manifests, report = _run(tmp_path, cluster, clock)
    pods = _pods(report, "vote-streaming")
    # Two pods (front, back) per streaming node: the node's bytes are not one pod's.
    assert all(p["bytes_fetched"] is None for p in pods)
    loaded = load_results([str(tmp_path / "results")])
    sizes = {FRONT: {"size_bytes": 200_000_000}, REDIS: {"size_bytes": 100_000_000}}
    rep = build_report(loaded.pods, loaded.events, evidence=loaded.evidence, image_info=sizes)
    fetched = rep["arms"]["vote-streaming"]["bytes_fetched"]
    # Each trial's node fetched both images' streamed blocks: 2 x 30 MB.
    assert fetched == {"bytes": 60_000_000, "image_size_bytes": 300_000_000, "fraction": 0.2, "readings": 2}
    assert rep["arms"]["vote-standard"]["bytes_fetched"]["bytes"] is None


def test_a_pod_alone_on_its_probed_node_is_given_the_node_s_fetched_bytes(tmp_path):
    clock, cluster = _cluster()
    _run(tmp_path, cluster, clock)
    loaded = load_results([str(tmp_path / "results")])
    # One pod per arm, trial and node: each node's fetched bytes are then its one pod's.
    alone, seen = [], set()
    for p in loaded.pods:
        if (p.arm, p.trial, p.node) not in seen:
            seen.add((p.arm, p.trial, p.node))
            alone.append(p)
    rep = build_report(alone, loaded.events, evidence=loaded.evidence)
    fetched = [p["bytes_fetched"] for p in _pods(rep, "vote-streaming")]
    # The node fetched both images' streamed blocks (2 x 30 MB) while its one pod ran.
    assert fetched and fetched == [60_000_000] * len(fetched)
    # Without probes there is no reading: no pod is given bytes.
    bare = build_report(alone, loaded.events)
    assert all(p["bytes_fetched"] is None for p in bare["pods"])


@pytest.mark.parametrize("knob", ["probe_fail_nodes", "probe_create_errors"])
def test_the_probe_is_removed_after_a_failure_and_its_evidence_is_missing(tmp_path, knob):
    clock, cluster = _cluster()
    if knob == "probe_fail_nodes":
        cluster.probe_fail_nodes = {cluster.nodes[1]["name"]}
    else:
        cluster.probe_create_errors = 2  # both probes of the first trial are refused
    manifests, report = _run(tmp_path, cluster, clock, trials=1)
    (m,) = manifests
    assert m["probe_problems"] and cluster.daemonsets == {} and PROBE_NAMESPACE not in cluster.namespaces
    assert all(p["streamed"] is None for p in _pods(report, "vote-streaming"))
    assert report["comparisons"][0]["verified"]["streaming"] is None


def test_ctrl_c_during_the_probe_removes_it(tmp_path):
    clock, cluster = _cluster()
    original = cluster.list_pods

    def interrupt(namespace, selector):
        if namespace == PROBE_NAMESPACE:
            raise KeyboardInterrupt
        return original(namespace, selector)

    cluster.list_pods = interrupt
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, cluster, clock, trials=1)
    assert cluster.daemonsets == {} and cluster.namespaces == {}


def test_trial_evidence_round_trips_through_the_results_folder(tmp_path):
    clock, cluster = _cluster()
    _run(tmp_path, cluster, clock, trials=1)
    doc = json.loads((tmp_path / "results" / "trial-001" / "verification.json").read_text())
    node = cluster.nodes[1]["name"]
    assert doc["probes"][node]["backstores"] == 6 and doc["probes_after_reset"][node]["backstores"] == 0
    assert doc["node_facts"][node]["zone"] == "westus3-1"


def test_the_table_notes_say_what_streaming_read(tmp_path):
    from timing.rendering.table import notes

    clock, cluster = _cluster()
    _run(tmp_path, cluster, clock)
    loaded = load_results([str(tmp_path / "results")])
    sizes = {FRONT: {"size_bytes": 4_000_000_000}, REDIS: {"size_bytes": 1_200_000_000}}
    rep = build_report(loaded.pods, loaded.events, evidence=loaded.evidence, image_info=sizes)
    assert (
        "vote-streaming: read 60 MB of 5.20 GB, 1 % from the registry (median of 2 node reading(s), overlaybd exporter)."
        in notes(rep)
    )
