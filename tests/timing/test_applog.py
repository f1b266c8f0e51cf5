from timing.model.applog import app_times
from timing.model.kube_time import parse_time


def test_start_and_ready_lines_with_and_without_kubectl_timestamps():
    text = (
        "2026-11-03T09:00:01.000000001Z streaming-ab: start 2026-11-03T09:00:01.250Z\n"
        "reading 5000 MB\n"
        "streaming-ab: ready 2026-11-03T09:00:31.004Z\n"
        "streaming-ab: ready 2026-11-03T09:59:00.000Z\n"  # a second line (a restart) never moves it
    )
    times = app_times(text)
    assert times == {
        "start": parse_time("2026-11-03T09:00:01.250Z"),
        "ready": parse_time("2026-11-03T09:00:31.004Z"),
    }


def test_garbage_and_missing_logs_give_no_time():
    assert app_times(None) == {} and app_times("") == {}
    assert app_times("streaming-ab: ready soon\nstreaming-ab: nonsense 2026-01-01T00:00:00Z\n") == {}


def test_custom_pattern_takes_the_runtime_stamp_of_the_first_matching_line():
    from timing.model.applog import pattern_ready_time

    text = (
        "2026-11-03T09:00:01.000000001Z booting\n"
        "2026-11-03T09:00:07.123456789Z INFO Listening on port 8080\n"
        "2026-11-03T09:00:09.000000000Z INFO Listening on port 8080\n"
    )
    assert pattern_ready_time(text, r"Listening on port \d+") == parse_time("2026-11-03T09:00:07.123456Z")
    # No runtime stamp (a log read without timestamps), no match, a broken pattern: no time, never a guess.
    assert pattern_ready_time("INFO Listening on port 8080\n", "Listening") is None
    assert pattern_ready_time(text, "never printed") is None
    assert pattern_ready_time(text, "(unclosed") is None
    # The pattern is searched in the line's text, not in the stamp.
    assert pattern_ready_time(text, "^2026") is None


def test_a_custom_workloads_pod_reads_its_app_ready_from_its_annotated_pattern():
    from contract import ANNOTATION_APP_READY_LOG, LABEL_ARM
    from timing.sources.inputs import Loaded
    from timing.sources.selectors import parse_selector

    def pod(uid, annotations):
        meta = {"name": uid, "namespace": "ns", "uid": uid, "labels": {LABEL_ARM: "a"}, "annotations": annotations}
        return {"kind": "Pod", "metadata": meta, "spec": {"containers": [{"name": "app", "image": "x"}]}}

    loaded = Loaded()
    loaded.add_pod_items(
        [pod("custom", {ANNOTATION_APP_READY_LOG: "ready to serve"}), pod("own", {})], None, parse_selector(None)
    )
    log = "2026-11-03T09:00:05.5Z ready to serve\n2026-11-03T09:00:06Z streaming-ab: ready 2026-11-03T09:00:06.000Z\n"
    loaded.app_logs = {"custom": log, "own": log}
    loaded.apply_app_logs()
    times = {p.name: p.app_ready_at for p in loaded.pods}
    assert times == {"custom": parse_time("2026-11-03T09:00:05.5Z"), "own": parse_time("2026-11-03T09:00:06.000Z")}
