from timing.rendering.environment import NOT_RECORDED, environment


def facts(report):
    return dict(environment(report))


def test_node_facts_as_the_report_records_them():
    report = {
        "schema": "streaming-ab/timing-report@3",
        "nodes": {
            "n1": {"node_image_version": "AKSUbuntu-2204gen2containerd-202608.01.0", "kubelet_version": "v1.33.2",
                   "container_runtime_version": "containerd://1.7.27-1", "vm_size": "Standard_D4ds_v5",
                   "zone": "westus3-1"},
            "n2": {"node_image_version": "AKSUbuntu-2204gen2containerd-202609.02.0", "kubelet_version": "v1.33.2",
                   "container_runtime_version": None, "vm_size": "Standard_D2_v5", "zone": "westus3-2"},
        },
        "arms": {"a": {"pool": "std", "trials": [{"trial": "1"}, {"trial": "2"}]}, "b": {"pool": "art"}},
        "pods": [{}, {}],
    }  # fmt: skip
    got = facts(report)
    assert got["region"] == "westus3" and got["zones"] == "westus3-1, westus3-2"
    assert got["node image"] == "AKSUbuntu-2204gen2containerd-202608.01.0, AKSUbuntu-2204gen2containerd-202609.02.0"
    assert got["kubelet"] == "v1.33.2" and got["containerd"] == "containerd://1.7.27-1"
    assert got["VM sizes"] == "Standard_D2_v5, Standard_D4ds_v5" and got["node pools"] == "art, std"
    assert got["trials"] == "2 in the pods" and got["pods"] == "2" and got["dates"] == NOT_RECORDED


def test_kubectl_node_objects_by_label_and_node_info():
    node = {
        "metadata": {
            "name": "n1",
            "labels": {"topology.kubernetes.io/region": "eastus", "topology.kubernetes.io/zone": "0"},
        },
        "status": {"nodeInfo": {"kubeletVersion": "v1.32.0", "containerRuntimeVersion": "containerd://2.0"}},
    }
    got = facts({"nodes": [node]})
    assert got["region"] == "eastus" and got["kubelet"] == "v1.32.0" and got["containerd"] == "containerd://2.0"


def test_nothing_recorded_says_so():
    got = facts({"pods": [], "arms": {}, "comparisons": []})
    for fact in ("region", "zones", "VM sizes", "node image", "kubelet", "containerd", "node pools", "dates"):
        assert got[fact] == NOT_RECORDED, fact
    assert facts({"nodes": {"n": {"zone": "0"}}})["region"] == NOT_RECORDED  # outside any zone: no region


def test_a_nodes_dump_gives_the_region_from_its_label_when_zones_say_none(tmp_path, capsys):
    """AKS nodes outside availability zones carry zone "0": the region comes from its own label."""
    import json

    from offline.kube_objects import aks_node_info, node_object, write_list
    from tests.conftest import TIMING_FIXTURES
    from timing.cli import main

    labels = {"topology.kubernetes.io/region": "eastus2", "topology.kubernetes.io/zone": "0"}
    nodes = tmp_path / "nodes.json"
    write_list(nodes, [node_object("aks-fastart-27182818-vmss000000", "u1", labels, ready=True, images=(),
                                   node_info=aks_node_info())])  # fmt: skip
    out = tmp_path / "report.json"
    pods, events = TIMING_FIXTURES / "pods.json", TIMING_FIXTURES / "events.json"
    argv = ["report", "--pods", str(pods), "--events", str(events), "--nodes", str(nodes), "--json", str(out)]
    assert main(argv) == 0
    got = facts(json.loads(out.read_text()))
    assert got["region"] == "eastus2" and got["zones"] == "0"


def test_dates_from_pod_creation_times_without_trial_manifests(make_report):
    """A kubectl dump has no trial manifests; its pods carry their creation times (T0 is 2026-11-03)."""
    report = make_report()
    assert "trials" not in report
    assert facts(report)["dates"] == "2026-11-03 (UTC, from pod creation times)"
    created = [t["created_at"] for a in report["arms"].values() for t in a["trials"]]
    assert created[:3] == ["2026-11-03T09:16:40Z", "2026-11-03T09:33:20Z", "2026-11-03T09:50:00Z"]
    report["arms"]["vote-streaming"]["trials"][-1]["created_at"] = "2026-11-05T10:00:00Z"
    assert facts(report)["dates"] == "2026-11-03 to 2026-11-05 (UTC, from pod creation times)"
    report["trials"] = [{"id": "t1", "started_at": "2026-11-04T09:00:00.000000Z"}]  # manifests win, and say so
    assert facts(report)["dates"] == "2026-11-04 (UTC, from the trial manifests' start times)"
