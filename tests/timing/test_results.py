import json

import pytest

from offline.timing_dumps import write_results
from timing.cli import main
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


def test_two_incomplete_trials_in_one_folder_are_each_left_out_and_said(tmp_path, capsys):
    import json
    import shutil

    from offline.timing_dumps import write_results
    from timing.cli import main

    folder = write_results(tmp_path / "r", [(40, 6), (44, 7), (38, 6), (41, 6), (43, 7)])
    trials = sorted(d for d in folder.iterdir() if d.is_dir())
    (trials[2] / "pods.json").unlink()
    (trials[3] / "trial.json").unlink()
    out, summary = tmp_path / "r.json", tmp_path / "r.md"
    assert main(["report", "--results", str(folder), "--json", str(out), "--markdown", str(summary)]) == 0
    doc = json.loads(out.read_text())
    by_path = {t["path"]: t for t in doc["trials"]}
    for gone, missing in ((trials[2], "pods.json"), (trials[3], "trial.json")):
        entry = by_path[str(gone)]
        assert entry["included"] is False and "incomplete" in entry["flags"]
        assert any(f"no {missing}" in reason for reason in entry["reasons"])
    (comparison,) = doc["comparisons"]
    assert comparison["speedup"]["n_trials"] == 3
    text = summary.read_text()
    assert "Nothing was left out" not in text and "incomplete" in text
    assert "incomplete" in capsys.readouterr().out
    shutil.rmtree(folder)


RATIOS = [(30.0, 10.0), (32.0, 11.0), (31.0, 10.0), (29.0, 9.0), (33.0, 12.0)]


def _report(folder, tmp_path, capsys, *extra):
    """`report --results` to JSON and Markdown files; the JSON, the page and the terminal's notes."""
    out, page = tmp_path / "r.json", tmp_path / "r.md"
    code = main(["report", "--results", str(folder), "--json", str(out), "--markdown", str(page), *extra])
    assert code == 0
    return json.loads(out.read_text()), page.read_text(), capsys.readouterr().out


@pytest.mark.parametrize(
    ("remove", "trial", "reason"),
    [
        ("trial-3/pods.json", "t3", "incomplete: no pods.json"),
        ("trial-3/events.json", "t3", "incomplete: no events.json"),
        # Pods without a manifest must not join the speed-up as an unflagged trial.
        ("trial-3/trial.json", "trial-3", "incomplete: no trial.json"),
    ],
)
def test_an_incomplete_trial_folder_is_left_out_counted_and_said(tmp_path, capsys, remove, trial, reason):
    folder = write_results(tmp_path / "rd", RATIOS)
    (folder / remove).unlink()
    doc, page, terminal = _report(folder, tmp_path, capsys)
    entry = next(t for t in doc["trials"] if t["id"] == trial)
    assert entry["included"] is False and entry["flagged"] and entry["incomplete"] and reason in entry["reasons"]
    assert [t["included"] for t in doc["trials"]].count(True) == 4
    assert doc["comparisons"][0]["speedup"]["n_trials"] == 4
    assert "Nothing was left out" not in page
    said = f"trial {trial} "
    assert said in page and reason in page and "**incomplete**" in page
    assert said in terminal and reason in terminal


def test_include_flagged_cannot_put_an_incomplete_trial_back(tmp_path, capsys):
    folder = write_results(tmp_path / "rd", RATIOS)
    (folder / "trial-2" / "trial.json").unlink()
    doc, _, _ = _report(folder, tmp_path, capsys, "--include-flagged")
    assert [t["id"] for t in doc["trials"] if not t["included"]] == ["trial-2"]
    assert doc["comparisons"][0]["speedup"]["n_trials"] == 4


def test_an_unreadable_manifest_leaves_its_trial_out_not_the_folder(tmp_path, capsys):
    folder = write_results(tmp_path / "rd", RATIOS)
    (folder / "trial-5" / "trial.json").write_text("{not json")
    doc, _, terminal = _report(folder, tmp_path, capsys)
    entry = next(t for t in doc["trials"] if t["id"] == "trial-5")
    assert not entry["included"] and entry["reasons"][0].startswith("incomplete: trial.json unreadable")
    assert doc["comparisons"][0]["speedup"]["n_trials"] == 4 and "trial trial-5 " in terminal


def test_a_trial_without_its_manifest_is_named_without_none():
    from timing.rendering.headline import flagged_trial_line

    line = flagged_trial_line(
        {"id": "trial-4", "index": None, "verdict": None, "reasons": ["incomplete: no trial.json"]}
    )
    assert line == "trial trial-4 flagged (incomplete: no trial.json), excluded."
    full = flagged_trial_line({"id": "t3", "index": 3, "verdict": "cold", "reasons": ["incomplete: no pods.json"]})
    assert full == "trial t3 (#3) flagged, verdict cold (incomplete: no pods.json), excluded."


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("pods.json", "{not json", "incomplete: pods.json could not be read: not JSON ("),
        ("events.json", "", "incomplete: events.json could not be read: the file is empty"),
        ("events.json", '{"kind": "List", "items": [', "incomplete: events.json could not be read: not JSON ("),
        ("verification.json", "[1", "incomplete: verification.json could not be read: "),
        ("logs.json", "nope", "incomplete: logs.json could not be read: "),
        # JSON, but not the object measure writes: the same, not an AttributeError that stops the report
        ("verification.json", "[]", "incomplete: verification.json could not be read: a JSON list, not the object"),
        ("logs.json", '"x"', "incomplete: logs.json could not be read: a JSON str, not the object measure writes"),
    ],
)
def test_an_unreadable_trial_file_leaves_its_trial_out_not_the_folder(tmp_path, capsys, name, content, said):
    folder = write_results(tmp_path / "rd", RATIOS)
    (folder / "trial-3" / name).write_text(content)
    doc, page, terminal = _report(folder, tmp_path, capsys)
    entry = next(t for t in doc["trials"] if t["id"] == "t3")
    (reason,) = [r for r in entry["reasons"] if r.startswith("incomplete")]
    assert reason.startswith(said) and "\n" not in reason and "Traceback" not in reason
    assert entry["included"] is False and entry["incomplete"] and "incomplete" in entry["flags"]
    assert doc["comparisons"][0]["speedup"]["n_trials"] == 4
    assert reason in page and "trial t3 " in terminal


def test_a_trial_whose_events_cannot_be_read_adds_none_of_its_pods(tmp_path):
    folder = write_results(tmp_path / "rd", RATIOS)
    (folder / "trial-3" / "events.json").write_text("{garbled")
    loaded = results.load_results([str(folder)])
    assert {p.trial for p in loaded.pods} == {"t1", "t2", "t4", "t5"}
    whole = results.load_results([str(write_results(tmp_path / "whole", RATIOS))])
    assert loaded.seen_pods == whole.seen_pods * 4 // 5 and len(loaded.pods) == len(whole.pods) * 4 // 5


def test_a_wrong_field_in_a_readable_pods_file_stops_the_report_as_from_a_dump(tmp_path, capsys):
    """Only a file that cannot be read leaves its trial out: a bad value in one pod would otherwise thin
    a trial without a word on stderr while the gates judge the rest."""
    folder = write_results(tmp_path / "rd", RATIOS)
    pods = folder / "trial-3" / "pods.json"
    pods.write_text(pods.read_text().replace('"lastTransitionTime": "', '"lastTransitionTime": "2026-13-45T99:', 1))
    assert main(["report", "--results", str(folder), "--json"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("timing: error: ") and err.count("\n") == 1 and "incomplete" not in err


def test_a_folder_of_incomplete_trials_says_so_and_why(tmp_path, capsys):
    folder = write_results(tmp_path / "rd", RATIOS[:2])
    (folder / "trial-1" / "pods.json").write_text("{garbled")
    (folder / "trial-2" / "events.json").unlink()
    assert main(["report", "--results", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"timing: error: {folder}: every trial (2) was left out as incomplete: ")
    assert "t1 (pods.json could not be read: not JSON (" in err and "t2 (no events.json)" in err
    assert "no pods in it" not in err


def test_many_incomplete_trials_are_counted_and_the_first_named():
    trials = [{"id": f"t{i}", "incomplete": True, "reasons": ["warm", "incomplete: no pods.json"]} for i in range(7)]
    line = results.all_incomplete(trials)
    assert line == (
        "every trial (7) was left out as incomplete: t0 (no pods.json), t1 (no pods.json), t2 (no pods.json), "
        "t3 (no pods.json), t4 (no pods.json), and 2 more"
    )
    assert results.all_incomplete([*trials, {"id": "ok", "incomplete": False, "reasons": []}]) is None
