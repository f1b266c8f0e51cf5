import json

from timing.model.evidence import Evidence
from timing.sources import results


def _pod(name: str, uid: str) -> dict:
    return {
        "metadata": {"name": name, "namespace": "streaming-ab", "uid": uid, "labels": {"streaming-ab/arm": "a"}},
        "spec": {"nodeName": "n1", "containers": [{"name": "app", "image": "r/a:1"}]},
        "status": {},
    }


def test_a_written_trial_reads_back_as_measure_wrote_it(tmp_path):
    folder = tmp_path / "results" / "t1"
    pods, events = [_pod("p1", "u1")], [{"reason": "Pulling", "involvedObject": {"uid": "u1"}}]
    evidence = Evidence(pool_streaming={"exp": True}, node_labels={"n1": {"x": "y"}}, node_images_before={"n1": []})
    results.write_snapshot(folder, pods, events)
    results.write_evidence(folder, evidence)
    results.write_app_logs(folder, {"u1": "streaming-ab: ready 2024-05-01T10:00:41.250Z\n"})
    results.write_manifest(folder, {"id": "t1", "index": 1, "flagged": False, "verdict": "cold"})
    doc = json.loads((folder / results.PODS_FILE).read_text())
    # kubectl's List shape, so `report --pods` reads the same file.
    assert doc["kind"] == "List" and doc["items"][0]["kind"] == "Pod" and doc["items"][0]["apiVersion"] == "v1"
    assert json.loads((folder / results.EVENTS_FILE).read_text())["items"][0]["kind"] == "Event"
    loaded = results.load_results([str(tmp_path / "results")])
    assert [t["id"] for t in loaded.trials] == ["t1"] and not loaded.trials[0]["flagged"]
    assert [p.name for p in loaded.pods] == ["p1"] and loaded.pods[0].trial == "t1"
    assert loaded.evidence["t1"] == evidence
    assert loaded.pods[0].app_ready_at is not None


def test_trial_folders_are_read_in_start_order(tmp_path):
    for name, started in (("b", "2024-05-01T10:00:00Z"), ("a", "2024-05-01T11:00:00Z")):
        results.write_manifest(tmp_path / name, {"id": name, "index": 1, "started_at": started})
    assert [d.name for d in results.trial_dirs(tmp_path)] == ["b", "a"]
    assert results.trial_dirs(tmp_path / "a") == [tmp_path / "a"]
