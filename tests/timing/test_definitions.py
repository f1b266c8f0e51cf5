"""Issue 19 definitions, on constructed kubectl-shaped dumps (offline.timing_dumps): last container start,
terminating and flapped pods, the sibling rule's event order, old kubelets' pulls without a duration;
and the definitions and codes a hand-on report carries (timing.rendering.definitions)."""

import re
from pathlib import Path

from offline import kube_objects as kube
from offline.timing_dumps import BIG, SIDE, event, load, present, pulled, unhealthy
from offline.timing_dumps import pod as dpod
from timing.analysis.classify import COLD, FLAPPED, PULLED_BY_SIBLING, TERMINATING, WARM, classify_pods


def _classify(pods, events):
    return classify_pods(*load(pods, events))


def test_started_is_the_last_container_start():
    """A sidecar starting at +50 s: the pod has started when its last container has."""
    p = dpod("p1", images=(("app", BIG), ("side", SIDE)), starts={"app": 5, "side": 50}, ready=51)
    r = _classify([p], pulled(p, BIG, 1, 4) + pulled(p, SIDE, 4, 49, container="side"))[0]
    assert r.started_seconds == 50.0


def test_a_container_not_started_yet_leaves_started_unknown():
    p = dpod("p1", images=(("app", BIG), ("side", SIDE)), starts={"app": 5, "side": None})
    r = _classify([p], pulled(p, BIG, 1, 4) + pulled(p, SIDE, 4, 9, container="side"))[0]
    assert r.started_seconds is None


def test_a_pod_with_a_deletion_timestamp_is_terminating():
    old = dpod("old", created=-600, started=-590, ready=-589, deleted=-5)
    r = _classify([old], pulled(old, BIG, -599, -591))[0]
    assert r.pod_class == TERMINATING


def test_ready_after_a_failed_readiness_probe_is_flapped():
    p = dpod("p1", started=5, ready=40)
    r = _classify([p], pulled(p, BIG, 1, 4) + unhealthy(p, 20))[0]
    assert r.pod_class == FLAPPED
    steady = dpod("p2", started=5, ready=6)
    assert _classify([steady], pulled(steady, BIG, 1, 4))[0].pod_class == COLD


def test_a_readiness_failure_before_the_container_started_is_no_flap():
    p = dpod("p1", started=5, ready=6)
    assert _classify([p], pulled(p, BIG, 1, 4) + unhealthy(p, 2))[0].pod_class == COLD


def test_a_sibling_pull_must_end_before_already_present():
    """The sibling rule respects event order: a pull ending after this pod's "already present" is no reason."""
    a = dpod("a", created=0, started=30, ready=31)
    b = dpod("b", created=0, started=12, ready=13)
    before = _classify([a, b], pulled(a, BIG, 1, 10) + present(b, BIG, 11))
    assert before[1].containers[0].source == PULLED_BY_SIBLING and before[1].pod_class == COLD
    after = _classify([a, b], pulled(a, BIG, 1, 25) + present(b, BIG, 11))
    assert after[1].pod_class == WARM


def test_old_kubelet_pull_without_duration_uses_event_times():
    p = dpod("p1", started=40, ready=41)
    events = [
        event(p, "Pulling", kube.pulling_message(BIG), 2),
        event(p, "Pulled", f'Successfully pulled image "{BIG}"', 37),
    ]
    c = _classify([p], events)[0].containers[0]
    assert (c.pull_seconds, c.pull_seconds_from) == (35.0, "events")
    modern = _classify([p], pulled(p, BIG, 2, 37))[0].containers[0]
    assert modern.pull_seconds_from == "kubelet"


def test_which_meaning_a_kubelet_pull_time_has():
    """Up to 1.26 `in X` includes the queue wait; from 1.27 it excludes it and `including waiting` carries it."""
    from timing.analysis.report import build_report

    new, old, older = (dpod(n, node=n, started=40, ready=41) for n in ("n127", "n126", "nx"))
    odd = dpod("odd", node="n127", started=40, ready=41)  # a 1.27+ kubelet without the part: not known
    events = pulled(new, BIG, 1, 30)  # "in 29s (29s including waiting)"
    events += [
        event(old, "Pulling", kube.pulling_message(BIG), 1),
        event(old, "Pulled", kube.pulled_message(BIG, "29s"), 30),
        event(older, "Pulling", kube.pulling_message(BIG), 1),
        event(older, "Pulled", kube.pulled_message(BIG, "29s"), 30),
        event(odd, "Pulling", kube.pulling_message(BIG), 1),
        event(odd, "Pulled", kube.pulled_message(BIG, "29s"), 30),
    ]
    nodes = [
        kube.node_object("n127", "u1", {}, ready=True, images=())
        | {"status": {"nodeInfo": {"kubeletVersion": "v1.29.2"}}},
        kube.node_object("n126", "u2", {}, ready=True, images=())
        | {"status": {"nodeInfo": {"kubeletVersion": "v1.26.6"}}},
    ]
    r = build_report(*load([new, old, older, odd], events), nodes=nodes)
    meaning = {p["name"]: p["containers"][0]["pull_seconds_includes_waiting"] for p in r["pods"]}
    # No version for nx: the wording without "including waiting" itself dates the kubelet before 1.27.
    assert meaning == {"n127": False, "n126": True, "nx": True, "odd": None}


def test_the_first_puller_of_an_image_on_a_node_is_marked():
    """Ten replicas queue their pulls on one node: only the first to start waited behind no other."""
    a = dpod("a", created=0, started=40, ready=41)
    b = dpod("b", created=0, started=45, ready=46)
    results = _classify([a, b], pulled(b, BIG, 3, 44) + pulled(a, BIG, 1, 39))
    assert [r.containers[0].first_puller for r in results] == [True, False]


ROOT = Path(__file__).resolve().parents[2]


def test_every_code_the_analysis_gives_has_a_meaning():
    from timing.analysis import protocol, speedup
    from timing.analysis.classify import EXCLUDED_CLASSES
    from timing.rendering.definitions import CODES, UNDEFINED

    emitted = set(EXCLUDED_CLASSES) | {speedup.ARM_MISSING, speedup.NOT_STREAMED, speedup.NOT_READY}
    emitted |= {speedup.NO_APP_SIGNAL, "node_image_mismatch"}
    emitted |= {v for k, v in vars(protocol).items() if k.isupper() and isinstance(v, str) and v.isidentifier()}
    assert emitted - set(CODES) == set()
    assert all(meaning and meaning != UNDEFINED for meaning in CODES.values())


def test_every_verdict_measure_gives_has_a_meaning():
    from timing.rendering.definitions import VERDICTS

    runner = (ROOT / "timing" / "measure" / "runner.py").read_text()
    given = set(re.findall(r'verdict = "([\w-]+)"', runner)) | set(re.findall(r'else "([\w-]+)"', runner))
    given |= set(re.findall(r'return \("(\w+)" if expected_warm else "(\w+)"\)', runner)[0])
    assert {"cold", "warm", "reset-failed", "error", "timeout"} <= given
    assert given - set(VERDICTS) == set()


def test_the_codes_and_the_interval_rule_are_the_docs_own():
    from timing.rendering.definitions import CODES, DEFINITIONS, VERDICTS

    docs = (ROOT / "docs" / "timing.md").read_text()
    missing = [code for code in (*CODES, *VERDICTS) if f"`{code}`" not in docs and f"**{code}**" not in docs]
    assert missing == []
    rule = dict(DEFINITIONS)["speed-up"]
    interval = "exp(mean(ln r) ± t(0.975, n−1)·√(sd(ln r)² + q)/√n)"
    for words in (interval, "res²/6·(1/b² + 1/s²)", "res = 1 s"):
        assert words in rule and words in docs, words


def test_a_code_no_table_holds_is_said_to_be_undefined():
    from timing.rendering.definitions import UNDEFINED, code_definitions

    assert code_definitions(["warm", "verdict warm", "odd_flag", "verdict odd"]) == [
        ("warm", code_definitions(["warm"])[0][1]),
        ("verdict warm", code_definitions(["verdict warm"])[0][1]),
        ("odd_flag", UNDEFINED),
        ("verdict odd", UNDEFINED),
    ]
    assert code_definitions(["warm"])[0][1] != code_definitions(["verdict warm"])[0][1]
