"""`streamed` per pod from constructed dumps: acr-nodemon events, AKS conditions, `report --nodes`."""

import json

from offline import kube_objects as kube
from offline.timing_dumps import BIG, at, load, nodemon, pod, pulled
from timing.analysis.report import build_report
from timing.cli import main
from timing.model.events import normalize_events
from timing.model.kubelet import STREAMED


def _pair(art_events=(), aks_conditions=()):
    std = pod("std-0", arm="a-std", streaming=False, node="std-node", created=0, ready=40, trial=1)
    art = pod(
        "art-0",
        arm="a-art",
        streaming=True,
        node="art-node",
        created=0,
        ready=10,
        trial=1,
        aks_conditions=aks_conditions,
    )
    return std, art, pulled(std, BIG, 1, 39) + pulled(art, BIG, 2, 9) + list(art_events)


def _report(std, art, events, **kw):
    pods, evs = load([std, art], events)
    return build_report(pods, evs, **kw)


def _art(report):
    return next(p for p in report["pods"] if p["name"] == "art-0")


def test_an_acr_nodemon_pulling_event_is_evidence_and_never_the_pull_start():
    std, art, events = _pair()
    before = _art(_report(std, art, events))
    # AKS's event comes before the kubelet's here: read as a pull start it would move the start to 0.5 s.
    std, art, events = _pair(nodemon(art, BIG, 0.5))
    after = _art(_report(std, art, events))
    assert after["containers"] == before["containers"] and after["pull_seconds"] == before["pull_seconds"]
    assert after["containers"][0]["pull_start_seconds"] == 2.0
    assert before["streamed"] is None and after["streamed"] is True
    assert after["streaming_evidence"] == [
        f'acr-nodemon: Streaming enabled for "{BIG}", upgraded to streaming artifact with digest '
        f'"sha256:{"d" * 64}", container started in 5s'
    ]


def test_the_events_k8s_io_view_of_acr_nodemon_is_read_the_same_way():
    std, art, _events = _pair()
    meta = kube.event_metadata("art-0.nm", namespace="streaming-ab", uid="nm-1")
    regarding = kube.object_reference("art-0", "uid-art-0", namespace="streaming-ab", container="app")
    message = kube.streaming_enabled_message(BIG, "sha256:" + "e" * 64)
    k8s_io = kube.k8sio_event(
        meta, regarding, "Pulling", message, first=at(3), host="art-node", controller="acr-nodemon"
    )
    (ev,) = normalize_events([k8s_io])
    assert ev.pull.kind == STREAMED and ev.pull.image == BIG and ev.pull.digest == "sha256:" + "e" * 64


def test_other_acr_nodemon_text_is_no_evidence():
    std, art, events = _pair()
    meta = kube.event_metadata("art-0.nm", namespace="streaming-ab", uid="nm-2")
    regarding = kube.object_reference("art-0", "uid-art-0", namespace="streaming-ab", container="app")
    other = kube.core_event(
        meta, regarding, "Pulling", f'Pulling image "{BIG}"', first=at(0), host="art-node", component="acr-nodemon"
    )
    assert normalize_events([other]) == []
    assert _art(_report(std, art, events + [other]))["containers"][0]["pull_start_seconds"] == 2.0


def test_upgrade_if_streamable_disabled_true_is_evidence_against_and_kept_verbatim():
    disabled = (("UpgradeIfStreamableDisabled", "True"),)
    std, art, events = _pair(aks_conditions=disabled)
    events += nodemon(art, BIG, 3)
    p = _art(_report(std, art, events))
    assert p["aks_conditions"] == {"UpgradeIfStreamableDisabled": "True"}
    assert p["streamed"] is False  # evidence against wins over the acr-nodemon line
    assert p["streaming_evidence"][-1].startswith("pod condition UpgradeIfStreamableDisabled=True")
    std, art, events = _pair(aks_conditions=(("UpgradeIfStreamableDisabled", "False"),))
    p = _art(_report(std, art, events))
    assert p["streamed"] is None and p["aks_conditions"] == {"UpgradeIfStreamableDisabled": "False"}


def test_report_nodes_brings_labels_and_facts_to_a_dump(tmp_path, capsys):
    std, art, events = _pair()
    labels = {"streaming-ab/pool": "art", "kubernetes.azure.com/artifactstreaming-enabled": "true"}
    labels["kubernetes.azure.com/node-image-version"] = "AKSUbuntu-2204gen2containerd-202608.01.0"
    nodes = [
        kube.node_object("art-node", "u1", labels, ready=True, images=[], node_info=kube.aks_node_info()),
        kube.node_object("std-node", "u2", {"streaming-ab/pool": "std"}, ready=True, images=[]),
    ]
    kube.write_list(tmp_path / "pods.json", [std, art])
    kube.write_list(tmp_path / "events.json", events)
    kube.write_list(tmp_path / "nodes.json", [{"kind": "Node", **n} for n in nodes])
    files = ["--pods", str(tmp_path / "pods.json"), "--events", str(tmp_path / "events.json")]
    assert main(["report", *files, "--nodes", str(tmp_path / "nodes.json"), "--json", str(tmp_path / "r.json")]) == 0
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["nodes"]["art-node"]["kubelet_version"] == "v1.33.2"
    assert doc["nodes"]["art-node"]["node_image_version"] == "AKSUbuntu-2204gen2containerd-202608.01.0"
    reasons = doc["comparisons"][0]["verified"]["reasons"]
    assert not any("labels not read" in r for r in reasons)  # the nodes' labels were checked
    capsys.readouterr()


def test_report_nodes_refuses_what_is_not_a_node_list(tmp_path, capsys):
    std, art, events = _pair()
    kube.write_list(tmp_path / "pods.json", [std, art])
    assert main(["report", "--pods", str(tmp_path / "pods.json"), "--nodes", str(tmp_path / "pods.json")]) == 2
    assert "not Nodes (kubectl get nodes -o json)" in capsys.readouterr().err
    assert main(["report", "--nodes", str(tmp_path / "pods.json")]) == 2
    assert "--nodes needs --pods or --results" in capsys.readouterr().err
