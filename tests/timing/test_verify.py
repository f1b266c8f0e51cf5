"""Verified streaming (node evidence), configured and cold, from constructed evidence."""

from offline.timing_dumps import BIG, load, pod, pulled
from timing.analysis.report import build_report
from timing.analysis.verify import NODE_STATUS_MAX_IMAGES
from timing.model.evidence import Evidence
from timing.model.probe import NodeProbe

STREAM_LABEL = {"kubernetes.azure.com/artifactstreaming-enabled": "true"}


def _pair(image=BIG):
    std = pod(
        "std-0", arm="a-std", streaming=False, node="std-node", created=0, ready=40, trial=1, images=(("app", image),)
    )
    art = pod(
        "art-0", arm="a-art", streaming=True, node="art-node", created=0, ready=10, trial=1, images=(("app", image),)
    )
    return load([std, art], pulled(std, image, 1, 39) + pulled(art, image, 1, 9))


def _good(**changes) -> Evidence:
    ev = Evidence(
        pool_streaming={"art": True, "std": False},
        node_labels={"art-node": dict(STREAM_LABEL), "std-node": {}},
        node_images_before={"art-node": ["mcr.microsoft.com/other:1"], "std-node": []},
        streaming_artifacts={BIG: True},
    )
    for k, v in changes.items():
        setattr(ev, k, v)
    return ev


def _verified(evidence, image=BIG):
    pods, events = _pair(image)
    return build_report(pods, events, evidence={"1": evidence})["comparisons"][0]["verified"]


def test_configuration_alone_never_verifies_streaming():
    assert _verified(_good()) == {
        "streaming": None,
        "configured": True,
        "cold": True,
        "reasons": ["1 streaming pod(s) without node evidence that they streamed: art-0"],
        "contradicted": [],
    }


def _probes(art_backstores, std_backstores=0):
    return {
        "art-node": NodeProbe("art-node", backstores=art_backstores),
        "std-node": NodeProbe("std-node", backstores=std_backstores),
    }


def test_backstores_on_the_streaming_node_verify_streaming():
    v = _verified(_good(probes=_probes(3)))
    assert v == {"streaming": True, "configured": True, "cold": True, "reasons": [], "contradicted": []}


def test_a_baseline_node_with_backstores_contradicts_streaming():
    v = _verified(_good(probes=_probes(3, std_backstores=2)))
    assert v["streaming"] is False and v["contradicted"] == ["baseline pod std-0 streamed (pods[].streaming_evidence)"]


def test_a_fallback_contradicts_streaming_whatever_the_configuration_says():
    v = _verified(_good(probes=_probes(0)))
    assert v["streaming"] is False and v["configured"] is True
    assert v["contradicted"] == ["streaming pod art-0 did not stream (pods[].streaming_evidence)"]


def test_streaming_pool_flag_off_in_arm_is_not_streaming():
    v = _verified(_good(pool_streaming={"art": False, "std": False}))
    assert v["configured"] is False and any("artifactStreamingProfile.enabled is False" in r for r in v["contradicted"])


def test_baseline_pool_that_streams_too_is_not_a_comparison():
    v = _verified(_good(pool_streaming={"art": True, "std": True}))
    assert v["configured"] is False and any(r.startswith("baseline pool std") for r in v["contradicted"])


def test_node_without_the_aks_streaming_label():
    v = _verified(_good(node_labels={"art-node": {}, "std-node": {}}))
    assert v["configured"] is False
    assert v["contradicted"] == ["streaming node art-node lacks kubernetes.azure.com/artifactstreaming-enabled=true"]


def test_missing_streaming_artifact_and_unknown_artifact():
    assert _verified(_good(streaming_artifacts={BIG: False}))["configured"] is False
    v = _verified(_good(streaming_artifacts={}))
    assert v["configured"] is None and v["contradicted"] == [] and "not confirmed" in v["reasons"][0]


def test_digest_reference_cannot_stream():
    digest = "acr.azurecr.io/big@sha256:" + "a" * 64
    v = _verified(_good(streaming_artifacts={digest: True}), image=digest)
    assert v["configured"] is False and "by digest" in v["contradicted"][0]


def test_cold_needs_the_nodes_read_before_the_trial():
    v = _verified(_good(node_images_before={"art-node": [BIG], "std-node": []}))
    assert v["cold"] is False and "already held" in v["contradicted"][0]
    assert _verified(_good(node_images_before=None))["cold"] is None
    full = [f"img{i}:1" for i in range(NODE_STATUS_MAX_IMAGES)]
    v = _verified(_good(node_images_before={"art-node": full, "std-node": []}))
    assert v["cold"] is None and "absence proves nothing" in v["reasons"][0]


def test_no_evidence_at_all_is_unverified_not_verified():
    pods, events = _pair()
    v = build_report(pods, events)["comparisons"][0]["verified"]
    assert v["streaming"] is None and v["configured"] is None and v["cold"] is None and v["contradicted"] == []
