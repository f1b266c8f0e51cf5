import pytest

from timing.model.kubelet import BACKOFF, FAILED, PRESENT, PULLED, PULLING, parse_message

IMG = "myacr.azurecr.io/azure-vote-front:v1"


def test_kubelet_126_pulled():
    m = parse_message("Pulled", f'Successfully pulled image "{IMG}" in 34.738162s')
    assert (m.kind, m.image, m.pull_seconds, m.including_waiting_seconds, m.image_size_bytes) == (
        PULLED,
        IMG,
        34.738162,
        None,
        None,
    )


def test_kubelet_127_including_waiting():
    m = parse_message("Pulled", f'Successfully pulled image "{IMG}" in 8.011s (8.011s including waiting)')
    assert (
        m.kind == PULLED
        and m.pull_seconds == pytest.approx(8.011)
        and m.including_waiting_seconds == pytest.approx(8.011)
    )
    assert m.image_size_bytes is None


def test_newest_with_image_size_and_minutes():
    m = parse_message(
        "Pulled",
        f'Successfully pulled image "{IMG}" in 1m4.215s (1m4.3s including waiting). Image size: 5243924480 bytes.',
    )
    assert m.pull_seconds == pytest.approx(64.215)
    assert m.including_waiting_seconds == pytest.approx(64.3)
    assert m.image_size_bytes == 5243924480


def test_queued_pull_has_small_time_and_long_wait():
    m = parse_message("Pulled", f'Successfully pulled image "{IMG}" in 412ms (11.6s including waiting)')
    assert m.pull_seconds == pytest.approx(0.412) and m.including_waiting_seconds == pytest.approx(11.6)


@pytest.mark.parametrize(
    "message",
    [
        f'Container image "{IMG}" already present on machine',
        f'Container image "{IMG}" already present on machine and can be accessed by the pod',
    ],
)
def test_already_present_variants(message):
    m = parse_message("Pulled", message)
    assert m.kind == PRESENT and m.image == IMG and m.pull_seconds is None


def test_failures_and_backoff():
    m = parse_message("Failed", f'Failed to pull image "{IMG}": rpc error: code = NotFound desc = not found')
    assert (m.kind, m.image) == (FAILED, IMG)
    m = parse_message("Failed", "Error: ErrImagePull")
    assert (m.kind, m.image) == (FAILED, None)
    m = parse_message("Failed", "Error: ImagePullBackOff")
    assert m.kind == FAILED
    m = parse_message("BackOff", f'Back-off pulling image "{IMG}"')
    assert (m.kind, m.image) == (BACKOFF, IMG)
    m = parse_message("BackOff", f'Back-off pulling image "{IMG}": ErrImagePull: 429 Too Many Requests')
    assert m.kind == BACKOFF


def test_pulling():
    m = parse_message("Pulling", f'Pulling image "{IMG}"')
    assert (m.kind, m.image) == (PULLING, IMG)


@pytest.mark.parametrize(
    "reason, message",
    [
        ("Started", "Started container x"),
        ("Created", "Created container x"),
        ("BackOff", "Back-off restarting failed container x in pod y"),  # crash loop, not a pull
        ("Failed", "Error: CreateContainerConfigError"),
        ("Pulled", "Successfully pulled image (streamed)"),  # seed 002's illustration, not a kubelet message
        ("Scheduled", 'Successfully pulled image "x" in 1s'),
    ],
)
def test_not_pull_events(reason, message):
    assert parse_message(reason, message) is None


@pytest.mark.parametrize("tail", ["in 3 days", "in 12x", "(streamed) in 2s via overlaybd"])
def test_unknown_wording_of_a_successful_pull_is_cold_without_duration(tail):
    m = parse_message("Pulled", f'Successfully pulled image "{IMG}" {tail}')
    assert (m.kind, m.image, m.pull_seconds) == (PULLED, IMG, None)


@pytest.mark.parametrize(
    "tail, seconds, waiting, size",
    [
        ("in 1m25.27926119s (1m25.279277391s including waiting)", 85.27926119, 85.279277391, None),
        ("in 814ms (1.495s including waiting). Image size: 12345 bytes.", 0.814, 1.495, 12345),
        ("in 2m48.817s (2m48.817s including waiting). Image size: 4080443126 bytes.", 168.817, 168.817, 4080443126),
        ("in 43.258137629s", 43.258137629, None, None),
    ],
)
def test_real_kubelet_wordings(tail, seconds, waiting, size):
    """Wordings from real clusters (issue 19)."""
    m = parse_message("Pulled", f'Successfully pulled image "{IMG}" {tail}')
    assert m.kind == PULLED and m.pull_seconds == pytest.approx(seconds)
    assert m.including_waiting_seconds == (pytest.approx(waiting) if waiting else None)
    assert m.image_size_bytes == size


def test_an_old_kubelet_pull_without_duration_is_a_pull():
    m = parse_message("Pulled", f'Successfully pulled image "{IMG}"')
    assert (m.kind, m.pull_seconds) == (PULLED, None)


def test_a_40kb_digit_run_in_a_message_parses_in_linear_time():
    import time

    started = time.perf_counter()
    m = parse_message("Pulled", f'Successfully pulled image "{IMG}" in {"1" * 40_000}s')
    # Longer than any Go duration: a pull, its duration unknown (never an infinite figure).
    assert time.perf_counter() - started < 1.0 and (m.kind, m.pull_seconds) == (PULLED, None)
