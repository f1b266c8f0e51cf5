from datetime import UTC, datetime, timedelta

from offline.timing_dumps import BIG, failed, load, present, pulled
from offline.timing_dumps import SIDE as SIDECAR
from offline.timing_dumps import pod as dpod
from timing.analysis.classify import (
    COLD,
    FAILED_POD,
    MIXED,
    RESTARTED,
    SKEWED,
    UNKNOWN,
    WARM,
    EventIndex,
    PodResult,
    classify_pods,
)
from timing.model.events import PullEvent
from timing.model.kubelet import parse_message
from timing.model.pods import ContainerSpec, PodInfo

T = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)


def classify_pod(pod: PodInfo, events) -> PodResult:
    """One pod on its own (no siblings to consult)."""
    return classify_pods([pod], events)[0]


APP, SIDE = "acr.azurecr.io/app:v1", "acr.azurecr.io/sidecar:v2"


def pod(uid="u1", name="p1", ready_after=20.0, containers=((False, "app", APP), (False, "side", SIDE))):
    return PodInfo(
        namespace="ns",
        name=name,
        uid=uid,
        labels={"streaming-ab/arm": "a"},
        node="n1",
        phase="Running",
        created=T,
        ready_at=T + timedelta(seconds=ready_after) if ready_after is not None else None,
        started_at=T + timedelta(seconds=5),
        containers=tuple(ContainerSpec(n, i, init) for init, n, i in containers),
    )


def ev(reason, message, at, container=None, pod_uid="u1", name="p1"):
    return PullEvent(
        uid=None,
        namespace="ns",
        pod_name=name,
        pod_uid=pod_uid,
        container=container,
        pull=parse_message(reason, message),
        first_time=T + timedelta(seconds=at),
        last_time=T + timedelta(seconds=at),
        count=1,
        node="n1",
    )


def test_cold_pod_sums_its_containers_pulls():
    r = classify_pod(
        pod(),
        [
            ev("Pulled", f'Successfully pulled image "{APP}" in 12.5s', 13, "app"),
            ev("Pulled", f'Successfully pulled image "{SIDE}" in 1.5s (2s including waiting)', 15, "side"),
        ],
    )
    assert r.pod_class == COLD
    assert r.pull_seconds == 14.0
    assert [c.cold for c in r.containers] == [True, True]
    assert r.containers[1].pull_including_waiting_seconds == 2.0
    assert r.ready_seconds == 20.0 and r.started_seconds == 5.0


def test_partly_warm_pod_is_mixed_never_cold():
    r = classify_pod(
        pod(),
        [
            ev("Pulled", f'Container image "{APP}" already present on machine', 1, "app"),
            ev("Pulled", f'Successfully pulled image "{SIDE}" in 3s', 4, "side"),
        ],
    )
    # Only the sidecar was pulled: timing this pod as cold would time the sidecar's pull.
    assert r.pod_class == MIXED and r.pull_seconds == 3.0
    assert [c.cold for c in r.containers] == [False, True]


def test_warm_pod():
    r = classify_pod(
        pod(),
        [
            ev("Pulled", f'Container image "{APP}" already present on machine', 1, "app"),
            ev(
                "Pulled",
                f'Container image "{SIDE}" already present on machine and can be accessed by the pod',
                1,
                "side",
            ),
        ],
    )
    assert r.pod_class == WARM and r.pull_seconds is None


def test_restart_after_cold_start_stays_cold():
    # "already present" after a container restart must not turn a cold start warm.
    r = classify_pod(
        pod(containers=((False, "app", APP),)),
        [
            ev("Pulled", f'Container image "{APP}" already present on machine', 300, "app"),
            ev("Pulled", f'Successfully pulled image "{APP}" in 9s', 10, "app"),
        ],
    )
    assert r.pod_class == COLD and r.pull_seconds == 9.0


def test_failed_pull_even_if_retry_succeeds():
    r = classify_pod(
        pod(containers=((False, "app", APP),)),
        [
            ev("Pulling", f'Pulling image "{APP}"', 1, "app"),
            ev("Failed", f'Failed to pull image "{APP}": 429 Too Many Requests', 2, "app"),
            ev("Failed", "Error: ErrImagePull", 2, "app"),
            ev("Pulled", f'Successfully pulled image "{APP}" in 20s', 40, "app"),
        ],
    )
    assert r.pod_class == FAILED_POD and r.containers[0].failed and r.containers[0].cold


def test_backoff_only_is_failed_and_pending_pod_not_ready():
    r = classify_pod(
        pod(ready_after=None, containers=((False, "app", APP),)),
        [ev("BackOff", f'Back-off pulling image "{APP}"', 5, "app")],
    )
    assert r.pod_class == FAILED_POD and r.ready_seconds is None and not r.ready


def test_no_events_is_unknown_not_warm():
    r = classify_pod(pod(), [])
    assert r.pod_class == UNKNOWN and all(c.cold is None for c in r.containers)


def test_match_by_image_when_no_field_path():
    r = classify_pod(pod(), [ev("Pulled", f'Successfully pulled image "{SIDE}" in 3s', 4, None)])
    assert [c.cold for c in r.containers] == [None, True]


def test_field_path_wins_over_image():
    # Two containers with the same image: fieldPath decides which one pulled.
    p = pod(containers=((True, "init", APP), (False, "app", APP)))
    r = classify_pod(
        p,
        [
            ev("Pulled", f'Successfully pulled image "{APP}" in 3s', 4, "init"),
            ev("Pulled", f'Container image "{APP}" already present on machine', 6, "app"),
        ],
    )
    # The app container found what this very pod's init container had just pulled: still a cold start.
    assert [(c.name, c.init, c.source) for c in r.containers] == [("init", True, "pulled"), ("app", False, "sibling")]
    assert r.pod_class == COLD and r.pull_seconds == 3.0


def test_events_match_by_uid_then_by_name_without_uid():
    p_new = pod(uid="new")
    events = [
        ev("Pulled", f'Successfully pulled image "{APP}" in 50s', 1, "app", pod_uid="old"),  # previous pod, same name
        ev("Pulled", f'Container image "{APP}" already present on machine', 1, "app", pod_uid=None),
    ]
    idx = EventIndex(events)
    matched = idx.for_pod(p_new)
    assert len(matched) == 1 and matched[0].pod_uid is None
    assert classify_pods([p_new], events)[0].pod_class == WARM


def test_other_namespace_same_name_does_not_match():
    other = PullEvent(
        uid=None,
        namespace="other",
        pod_name="p1",
        pod_uid=None,
        container="app",
        pull=parse_message("Pulled", f'Successfully pulled image "{APP}" in 2s'),
        first_time=T,
        last_time=T,
        count=1,
        node=None,
    )
    assert classify_pods([pod(uid=None)], [other])[0].pod_class == UNKNOWN


# --- classes decided by design, on constructed kubectl dumps -------------------------------------


def _one(pod_doc, events):
    pods, evs = load([pod_doc], events)
    return classify_pods(pods, evs)[0]


def test_restarted_pod_is_excluded_never_warm():
    # A restart after Ready moves the Ready condition to the latest transition: the dump lost the first.
    p = dpod("r1", ready=300, started=2, restarts=1)
    r = _one(p, pulled(p, BIG, 1, 40) + present(p, BIG, 290))
    assert r.pod_class == RESTARTED


def test_sibling_pull_on_the_same_node_counts_cold_warm_before_creation_does_not():
    first = dpod("s1", created=0, ready=45, node="n1")
    sibling = dpod("s2", created=1, ready=46, node="n1")  # created before s1's pull ended at 40 s
    late = dpod("s3", created=50, ready=52, node="n1")  # created after it: the image was there before
    pods, evs = load(
        [first, sibling, late],
        pulled(first, BIG, 1, 40) + present(sibling, BIG, 41) + present(late, BIG, 51),
    )
    classes = {r.pod.name: (r.pod_class, r.containers[0].source) for r in classify_pods(pods, evs)}
    assert classes == {"s1": (COLD, "pulled"), "s2": (COLD, "sibling"), "s3": (WARM, "present")}


def test_sibling_on_another_node_does_not_make_a_pod_cold():
    first = dpod("o1", created=0, ready=45, node="n1")
    other = dpod("o2", created=1, ready=3, node="n2")
    pods, evs = load([first, other], pulled(first, BIG, 1, 40) + present(other, BIG, 2))
    assert [r.pod_class for r in classify_pods(pods, evs)] == [COLD, WARM]


def test_sidecar_only_pull_is_mixed_and_a_negative_phase_is_skewed():
    p = dpod("m1", ready=10, images=(("app", BIG), ("side", SIDECAR)))
    r = _one(p, present(p, BIG, 1, "app") + pulled(p, SIDECAR, 1, 4, "side"))
    assert r.pod_class == MIXED
    # Kubelet's clock 5 s behind the API server: the pull "starts" before the pod exists.
    s = dpod("k1", created=10, ready=30)
    assert _one(s, pulled(s, BIG, 5, 25)).pod_class == SKEWED
    # Ready before creation (a hand-edited or skewed dump) is skewed too.
    z = dpod("k2", created=10, ready=9)
    assert _one(z, pulled(z, BIG, 10, 11)).pod_class == SKEWED


def test_failed_pull_wins_and_unknown_needs_every_container_known():
    p = dpod("f1", images=(("app", BIG),))
    assert _one(p, failed(p, BIG, 3)).pod_class == FAILED_POD
    q = dpod("u1", ready=20, images=(("app", BIG), ("side", SIDECAR)))
    assert _one(q, pulled(q, BIG, 1, 10, "app")).pod_class == UNKNOWN  # the sidecar's source is unknown


def test_phases_use_the_best_clock_and_say_their_resolution():
    p = dpod("c1", created=0, scheduled=0, started=13, ready=14)
    micro = _one(p, pulled(p, BIG, 1.25, 12.5, clock="micro"))
    c = micro.containers[0]
    assert (c.pull_start - p_created(p)).total_seconds() == 1.25 and c.pull_end_resolution == 1e-6
    res = micro.resolution()
    assert res["ready_seconds"] == 1.0 and res["pull_seconds"] == 1e-9
    # The figures from creation are only as good as creationTimestamp: 1 s.
    assert res["pull_start_seconds"] == 1.0
    named = _one(p, pulled(p, BIG, 1.25, 12.5, clock="name")).containers[0]
    assert named.pull_end_resolution == 1e-9 and (named.pull_end - p_created(p)).total_seconds() == 12.5
    coarse = _one(p, pulled(p, BIG, 1.25, 12.5)).containers[0]
    assert coarse.pull_end_resolution == 1.0 and (coarse.pull_end - p_created(p)).total_seconds() == 12.0
    assert micro.scheduled_seconds == 0 and micro.started_seconds == 13 and micro.ready_seconds == 14


def p_created(pod_doc):
    from timing.model.kube_time import parse_time

    return parse_time(pod_doc["metadata"]["creationTimestamp"])
