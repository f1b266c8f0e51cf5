"""Issue 19, hostile input: what is not a regular file, too large, YAML, standard input, duplicated pods."""

from __future__ import annotations

import io
import json
import os
import time

import pytest
import yaml

from tests.conftest import TIMING_FIXTURES
from timing.analysis.report import build_report
from timing.errors import UsageError
from timing.sources import dumpfile
from timing.sources.inputs import load_dumps

PODS = str(TIMING_FIXTURES / "pods.json")
EVENTS = str(TIMING_FIXTURES / "events.json")


def _report(pods, events):
    loaded = load_dumps(pods, events)
    return build_report(loaded.pods, loaded.events)


def test_a_fifo_ends_with_one_line_never_a_hang(tmp_path):
    fifo = tmp_path / "pods.fifo"
    os.mkfifo(fifo)  # nobody writes: opening it would block forever
    started = time.monotonic()
    with pytest.raises(UsageError, match=r"pods.fifo is not a regular file \(a FIFO or a device\)"):
        load_dumps([str(fifo)], [])
    assert time.monotonic() - started < 1.0


def test_dev_zero_ends_with_one_line_never_out_of_memory():
    with pytest.raises(UsageError, match="/dev/zero is not a regular file"):
        load_dumps([PODS], ["/dev/zero"])


def test_a_file_over_the_size_limit_is_refused_clearly(monkeypatch):
    monkeypatch.setattr(dumpfile, "MAX_DUMP_BYTES", 1000)
    with pytest.raises(UsageError, match=r"--pods .*pods.json: too large \(.* more than 1000\); narrow the dump"):
        load_dumps([PODS], [])


def test_kubectl_yaml_dumps_read_like_json(tmp_path):
    for name in ("pods", "events"):
        doc = json.loads((TIMING_FIXTURES / f"{name}.json").read_text())
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(doc))
    from_yaml = _report([str(tmp_path / "pods.yaml")], [str(tmp_path / "events.yaml")])
    assert from_yaml == _report([PODS], [EVENTS])


def test_unquoted_yaml_timestamps_stay_rfc3339(tmp_path):
    text = (
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n"
        "    name: p\n    namespace: streaming-ab\n    uid: u\n    creationTimestamp: 2024-05-01T10:00:00Z\n"
        "    labels: {streaming-ab/arm: a}\n  spec: {nodeName: n1, containers: [{name: app, image: x}]}\n"
    )
    (tmp_path / "pods.yaml").write_text(text)
    loaded = load_dumps([str(tmp_path / "pods.yaml")], [])
    assert loaded.pods[0].created.isoformat() == "2024-05-01T10:00:00+00:00"


def test_dash_reads_standard_input(monkeypatch):
    data = (TIMING_FIXTURES / "pods.json").read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    from_stdin = _report(["-"], [EVENTS])
    assert from_stdin == _report([PODS], [EVENTS])


def test_a_negative_duration_makes_the_pod_skewed():
    from offline.timing_dumps import BIG, load, pulled
    from offline.timing_dumps import pod as dpod
    from timing.analysis.classify import SKEWED, classify_pods

    p = dpod("p1", created=10, started=5, ready=12)  # started before it was created: clocks disagree
    assert classify_pods(*load([p], pulled(p, BIG, 11, 12)))[0].pod_class == SKEWED
