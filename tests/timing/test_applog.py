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
