"""timing.model.sharing: repeated values of a dump are kept once, and never merged when they differ."""

from __future__ import annotations

import copy

import pytest

from offline.timing_dumps import pod as dpod
from timing.model.events import normalize_events
from timing.model.pods import pod_from_dict
from timing.model.sharing import Shared


def _pods(*docs):
    return [pod_from_dict(copy.deepcopy(d)) for d in docs]


def test_pods_with_the_same_labels_and_containers_share_them():
    doc = dpod("p1", created=1, started=2, ready=3)
    a, b = _pods(doc, doc)
    assert a.labels == b.labels and a.labels is b.labels
    assert a.containers is b.containers
    assert a.namespace is b.namespace and a.node is b.node


def test_labels_equal_only_across_types_are_not_merged():
    doc = dpod("p1", created=1, started=2, ready=3)
    one, true = copy.deepcopy(doc), copy.deepcopy(doc)
    one["metadata"]["labels"]["x"] = 1  # a YAML dump's unquoted values
    true["metadata"]["labels"]["x"] = True
    a, b = _pods(one, true)
    assert a.labels["x"] is 1 and b.labels["x"] is True  # noqa: F632 - the very objects


def test_labels_keep_their_order_and_unhashable_values():
    doc = dpod("p1", created=1, started=2, ready=3)
    odd = copy.deepcopy(doc)
    odd["metadata"]["labels"]["x"] = ["a"]
    (p,) = _pods(odd)
    assert list(p.labels) == list(doc["metadata"]["labels"]) + ["x"]
    assert p.labels["x"] == ["a"]


def test_events_hold_their_pods_own_name():
    name = "".join(["p", "1"])  # a str object of its own, as the pod dump's would be
    item = {
        "apiVersion": "v1",
        "reason": "Pulling",
        "message": 'Pulling image "x"',
        "involvedObject": {"kind": "Pod", "namespace": "ns", "name": "p1", "uid": "u1"},
        "source": {"host": "node-1"},
        "firstTimestamp": "2024-05-01T10:00:00Z",
        "metadata": {"uid": "e1"},
    }
    second = copy.deepcopy(item)
    second["metadata"]["uid"] = "e2"
    evs = normalize_events([item, second], pods={("ns", name)})
    assert [e.pod_name for e in evs] == ["p1", "p1"]
    assert evs[0].pod_name is name and evs[1].pod_name is name
    assert evs[0].pod_uid is evs[1].pod_uid and evs[0].node is evs[1].node


def test_a_full_table_is_emptied_not_grown():
    table = Shared(limit=2)
    first = table.text("".join(["a", "b"]))
    table.text("c")
    table.text("d")  # the third entry empties the table first
    again = "".join(["a", "b"])
    assert table.text(again) is again and again is not first
    assert table.one(("k", True), lambda key: [key]) == [("k", True)]
    assert table.one(("k", 1), lambda key: key) == ("k", 1)  # not plain: made, not shared


def test_a_pod_broken_in_two_places_fails_on_the_first_as_before():
    doc = dpod("p1", created=1, started=2, ready=3)
    doc["metadata"]["annotations"] = "read before the node selector"
    doc["spec"]["nodeSelector"] = ["read last"]
    with pytest.raises(AttributeError, match="'str' object"):
        pod_from_dict(doc)
