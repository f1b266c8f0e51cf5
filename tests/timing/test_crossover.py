"""The crossover section, its crossing and its picture, on constructed trials (no cluster involved)."""

from __future__ import annotations

import json
import math

import pytest

from offline.timing_dumps import BIG, load, pod, pulled
from timing.analysis.crossover import NO_CROSSING, crossing
from timing.analysis.report import build_report
from timing.cli import main
from timing.model.throughput import node_throughput
from timing.rendering.crossover import crossover_lines, write_crossover_plot

# readPercent -> the speed-up every trial shows (baseline ready / streaming ready).
SPEEDUPS = {0: 4.0, 1: 3.0, 5: 2.0, 25: 0.8, 100: 0.5}
TRIALS = 3
BASELINE_READY = 120.0  # whole seconds: conditions carry second-resolution times
STREAMING_PULL = 2.0


def _limit_labels(value: int) -> dict[str, str]:
    return {
        "streaming-ab/factor": "readPercent",
        "streaming-ab/factor-value": str(value),
        "streaming-ab/payload-mb": "2000",
        "streaming-ab/read-mb": str(2000 * value // 100),
        "streaming-ab/fill": "random",
        "streaming-ab/vm-size": "Standard_D4ds_v5",
        "streaming-ab/os-disk": "Ephemeral",
    }


def _docs(speedups=SPEEDUPS, labels=_limit_labels):
    """Cold trials of two arms per value; a per-trial jitter of ±1 s keeps the interval finite."""
    pods, events = [], []
    for value, speedup in speedups.items():
        for trial in range(TRIALS):
            streaming_ready = round(BASELINE_READY / speedup) + trial - 1
            for streaming, ready in ((False, BASELINE_READY), (True, streaming_ready)):
                side = "on" if streaming else "off"
                doc = pod(
                    f"x{value}-{side}-{trial}",
                    arm=f"x-read-{value}-x{side}",
                    streaming=streaming,
                    node=f"n-{side}-{trial}",
                    ready=ready,
                    started=ready - 0.5,
                    trial=f"t{trial}",
                    workload=f"x-read-{value}",
                    pair="crossover",
                )
                doc["metadata"]["labels"].update(labels(value))
                pods.append(doc)
                pull_end = STREAMING_PULL if streaming else ready - 1.0
                events += pulled(doc, BIG, 0.2, pull_end)
    return pods, events


def constructed(speedups=SPEEDUPS, labels=_limit_labels):
    return load(*_docs(speedups, labels))


@pytest.fixture(scope="module")
def report():
    pods, events = constructed()
    return build_report(pods, events)


def test_points_carry_the_trial_speedup_with_its_interval(report):
    section = report["crossover"]
    assert section["factor"] == "readPercent"
    assert [p["value"] for p in section["points"]] == [0, 1, 5, 25, 100]
    for point in section["points"]:
        assert point["n_trials"] == TRIALS
        assert point["estimate"] == pytest.approx(SPEEDUPS[int(point["value"])], rel=1e-3)
        low, high = point["ci95"]
        assert low < point["estimate"] < high
        comparison = next(c for c in report["comparisons"] if c["workload"] == point["workload"])
        assert point["verified"] == comparison["verified"]


def test_the_crossing_is_interpolated_on_the_log_speedup(report):
    crossed = report["crossover"]["crossing"]
    estimates = {p["value"]: p["estimate"] for p in report["crossover"]["points"]}
    y5, y25 = math.log(estimates[5]), math.log(estimates[25])
    assert crossed["between"] == [5, 25]
    assert crossed["value"] == pytest.approx(5 + 20 * y5 / (y5 - y25))
    assert crossed["direction"] == "streaming stops helping"
    assert crossed["value"] == pytest.approx(5 + 20 * math.log(2) / (math.log(2) - math.log(0.8)), rel=1e-2)


def test_a_curve_above_1x_does_not_cross():
    assert crossing([(0, 3.0), (50, 2.0), (100, 1.2)])["text"] == NO_CROSSING
    rising = crossing([(1, 0.5), (10, 2.0)])
    assert rising["direction"] == "streaming starts helping"
    assert rising["value"] == pytest.approx(1 + 9 * math.log(2) / (2 * math.log(2)))
    touching = crossing([(0, 2.0), (10, 1.0), (20, 0.5)])
    assert (touching["value"], touching["count"], touching["direction"]) == (10, 1, "streaming stops helping")


def test_the_limit_model_follows_the_published_throughput(report):
    point = next(p for p in report["crossover"]["points"] if p["value"] == 25)
    network, disk = 12500 / 8, 250.0  # Standard_D4ds_v5: Mbps / 8, temp disk MBps
    limit = point["limit"]
    assert limit["setup_seconds"] == pytest.approx(STREAMING_PULL - 0.2)
    assert limit["standard_seconds"] == pytest.approx(2000 / network + 2000 / disk)
    assert limit["streaming_seconds"] == pytest.approx(STREAMING_PULL - 0.2 + 500 / network)
    assert report["crossover"]["limit_model"]["missing"] is None


def test_published_throughput_table():
    assert node_throughput("Standard_D2s_v5", "Managed").disk_write_mb_s == 85  # VM uncached cap < P10
    assert node_throughput("Standard_D8s_v5", "Managed").disk_write_mb_s == 100  # P10
    assert node_throughput("Standard_D2_v5", "Managed").disk_write_mb_s == pytest.approx(62.91456)  # E10
    assert node_throughput("Standard_D4ds_v5", "Ephemeral").network_mb_s == 1562.5
    assert node_throughput("Standard_D4s_v5", "Ephemeral") is None  # no local disk
    assert node_throughput("Standard_E4s_v3", "Managed") is None


def test_a_hand_labelled_factor_without_image_facts_has_no_limit_line():
    pods, events = constructed(
        {"random": 0.7, "zero": 3.0},
        labels=lambda v: {"streaming-ab/factor": "fill", "streaming-ab/factor-value": str(v)},
    )
    section = build_report(pods, events)["crossover"]
    assert section["crossing"]["value"] is None and "not numeric" in section["crossing"]["text"]
    assert all(p["limit"] is None for p in section["points"])
    assert "random, zero" in section["limit_model"]["missing"]


def test_reports_without_a_factor_have_no_crossover_section():
    pods, events = constructed(labels=lambda v: {})
    assert "crossover" not in build_report(pods, events)


def test_the_plot_file_is_written(report, tmp_path):
    path = tmp_path / "crossover.png"
    assert write_crossover_plot(report, str(path)) == len(SPEEDUPS)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_crossover_plot_flag(tmp_path, capsys):
    pods_file, events_file = tmp_path / "pods.json", tmp_path / "events.json"
    pod_docs, event_docs = _docs()
    pods_file.write_text(json.dumps({"items": pod_docs}))
    events_file.write_text(json.dumps({"items": event_docs}))
    picture = tmp_path / "x.svg"
    args = ["report", "--pods", str(pods_file), "--events", str(events_file), "--crossover-plot", str(picture)]
    assert main([*args, "--json", str(tmp_path / "r.json")]) == 0
    assert picture.read_text().lstrip().startswith("<?xml")
    assert json.loads((tmp_path / "r.json").read_text())["crossover"]["factor"] == "readPercent"
    assert "crossover against readPercent: crosses 1x at 20." in capsys.readouterr().out
    assert main([*args[:-1], str(tmp_path / "x.bmp")]) == 2
    assert "unsupported picture format 'bmp'" in capsys.readouterr().err


def test_the_console_says_where_it_crosses(report):
    lines = crossover_lines(report["crossover"])
    assert lines[0].startswith("readPercent 0: 4.0x [") and "n=3 (transfer limit" in lines[0]
    assert lines[-1].startswith("crossover against readPercent: crosses 1x at 20.")
    assert crossover_lines({"factor": None, "crossing": {"text": "several factors"}}) == ["crossover: several factors"]


def test_several_factors_in_one_input_draw_no_curve():
    pods, events = constructed(
        labels=lambda v: {
            "streaming-ab/factor": "readPercent" if v < 10 else "sizeMb",
            "streaming-ab/factor-value": "1",
        }
    )
    section = build_report(pods, events)["crossover"]
    assert section["factor"] is None and section["points"] == []
    assert "several factors (readPercent, sizeMb)" in section["crossing"]["text"]
