import pytest

from timing.model.durations import parse_go_duration


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("34.738162s", 34.738162),
        ("8.011045191s", 8.011045191),
        ("834ms", 0.834),
        ("1m4.215s", 64.215),
        ("2m0s", 120.0),
        ("1h2m3.5s", 3723.5),
        ("500\u00b5s", 0.0005),  # micro sign, as Go prints it
        ("500\u03bcs", 0.0005),  # greek mu, accepted by time.ParseDuration
        ("500us", 0.0005),
        ("1500ns", 0.0000015),
        ("0", 0.0),
        ("0s", 0.0),
        (".5s", 0.5),
        ("1.s", 1.0),
        ("-1.5s", -1.5),
        ("+2m", 120.0),
        ("1h", 3600.0),
    ],
)
def test_parses_go_durations(text, seconds):
    assert parse_go_duration(text) == pytest.approx(seconds, abs=1e-12)


@pytest.mark.parametrize("text", ["", "s", "12", "1.2.3s", "5 s", "1d", "m1s", "1m-2s", "abc"])
def test_rejects_what_go_rejects(text):
    with pytest.raises(ValueError):
        parse_go_duration(text)


def test_a_long_digit_run_is_refused_in_linear_time():
    """Hostile input: a 40 KB digit run took 14 s with a backtracking pattern; linear parsing takes ms."""
    import time

    started = time.perf_counter()
    with pytest.raises(ValueError):
        parse_go_duration("1" * 40_000)
    with pytest.raises(ValueError):
        parse_go_duration("1.5" + "2" * 40_000)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "text, seconds",
    [("1m25.27926119s", 85.27926119), ("1.495s", 1.495), ("2m48.817s", 168.817), ("43.258137629s", 43.258137629)],
)
def test_real_kubelet_durations(text, seconds):
    assert parse_go_duration(text) == pytest.approx(seconds)
