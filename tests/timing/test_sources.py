import ast
import json
from pathlib import Path

import timing.sources.inputs as sources
from timing.analysis.report import build_report


def test_live_reads_one_list_per_namespace(monkeypatch):
    from tests.conftest import TIMING_FIXTURES

    pods = json.loads((TIMING_FIXTURES / "pods.json").read_text())
    events = json.loads((TIMING_FIXTURES / "events.json").read_text())
    calls = []

    class Resp:
        def __init__(self, doc):
            self.data = json.dumps(doc).encode()

    class Core:
        def __init__(self, client):
            pass

        def list_namespaced_pod(self, ns, label_selector="", _preload_content=True):
            calls.append(("pods", ns, label_selector))
            items = [p for p in pods["items"] if p["metadata"]["namespace"] == ns]
            return Resp({"items": items})

        def list_namespaced_event(self, ns, field_selector="", _preload_content=True):
            calls.append(("events", ns, field_selector))
            return Resp({"items": [e for e in events["items"] if e["metadata"]["namespace"] == ns]})

        def read_namespaced_pod_log(self, name, ns, container=None, limit_bytes=None, timestamps=False):
            calls.append(("log", ns, name))
            return "streaming-ab: start 2024-05-01T10:00:30.000Z\nstreaming-ab: ready 2024-05-01T10:00:41.250Z\n"

        def list_node(self, label_selector="", _preload_content=True):
            calls.append(("nodes", label_selector))
            node = loaded_nodes[0]
            return Resp(
                {"items": [{"metadata": {"name": node, "labels": {"x": "y"}}}, {"metadata": {"name": "other"}}]}
            )

    loaded_nodes = sorted({p["spec"].get("nodeName") for p in pods["items"] if p["spec"].get("nodeName")})

    import kubernetes.client

    from timing.sources.cluster import KubeCluster

    monkeypatch.setattr(kubernetes.client, "CoreV1Api", Core)
    loaded = sources.load_live(KubeCluster(object()), ["streaming-ab", "kube-system"], "streaming-ab/workload=vote")
    lists = [c for c in calls if c[0] != "log"]
    assert lists[:4] == [
        ("pods", "streaming-ab", "streaming-ab/workload=vote"),
        ("events", "streaming-ab", "involvedObject.kind=Pod"),
        ("pods", "kube-system", "streaming-ab/workload=vote"),
        ("events", "kube-system", "involvedObject.kind=Pod"),
    ]
    # One log read per pod (app readiness), then the labels of the arms' nodes, in one list call.
    assert sorted(c[2] for c in calls if c[0] == "log") == sorted(p.name for p in loaded.pods)
    assert lists[4] == ("nodes", "") and len(lists) == 5
    assert all(p.app_ready_at is not None for p in loaded.pods)
    r = build_report(loaded.pods, loaded.events, evidence=loaded.evidence)
    assert r["arms"]["vote-standard"]["cold_pods"] == 2
    # Live evidence carries node labels but never node images: after the run they prove nothing.
    ev = loaded.evidence.get("any trial")
    assert ev.node_images_before is None and list(ev.node_labels) == loaded_nodes[:1]
    # The same Node objects reach build_report as `nodes` (facts and labels for the report).
    assert [n["metadata"]["name"] for n in loaded.nodes] == loaded_nodes[:1]


def test_sources_never_import_the_analysis():
    """Sources read and reduce; deciding what the data means is the analysis' job, one way only."""
    offenders = []
    for path in sorted((Path(sources.__file__).parent).glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("timing.analysis")]
    assert offenders == []
