import csv
import json

import pytest
from rich.console import Console

from tests.timing.helpers import FIXTURES
from timing.analysis.report import build_report
from timing.rendering.table import fmt_size, print_report, short_image, write_csv, write_plot
from timing.sources.inputs import load_dumps


@pytest.fixture(scope="module")
def report():
    loaded = load_dumps(
        [str(FIXTURES / "pods.json")], [str(FIXTURES / "events.json"), str(FIXTURES / "events-k8s-io.json")]
    )
    return build_report(loaded.pods, loaded.events, image_info=json.loads((FIXTURES / "image-info.json").read_text()))


def test_table_per_workload(report):
    console = Console(record=True, width=220)
    print_report(report, console, reference=True)
    text = console.export_text()
    assert "workload vote" in text and "workload largeimage" in text
    assert "944 MB" in text and "28" in text and "5.24 GB" in text
    assert "azure-vote-front" in text and "all pods" in text
    assert "no pull event" in text and "warm" in text and "failed" in text
    assert "34.7" in text and "8.0" in text  # measured front pull p50s and the Teleport reference
    assert "64.0" in text and "21.3x" in text  # blog slow storage
    assert "seed 20240501" in text and "2000 resamples" in text
    assert "serialized pulls" in text


def test_csv_rows(report, tmp_path):
    path = tmp_path / "arms.csv"
    write_csv(report, str(path))
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 8
    by_arm = {r["arm"]: r for r in rows}
    assert by_arm["vote-streaming"]["baseline_arm"] == "vote-standard"
    assert float(by_arm["vote-streaming"]["ready_p50_speedup"]) == pytest.approx(21.0 / 6.5)
    assert by_arm["large-slow-standard"]["warm_pods"] == "1"
    assert by_arm["vote-standard"]["baseline_arm"] == ""


def test_plot_written(report, tmp_path):
    path = tmp_path / "plot.png"
    write_plot(report, str(path))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20000


def test_plot_of_empty_report(tmp_path):
    path = tmp_path / "empty.png"
    write_plot(build_report([], []), str(path))
    assert path.stat().st_size > 0


def test_formatting_helpers():
    assert short_image("myacr.azurecr.io/azure-vote-front:v1") == "azure-vote-front:v1"
    assert short_image("localhost:5000/x:1") == "x:1"
    assert short_image("library/redis:7") == "library/redis:7"
    assert fmt_size(None) == "?" and fmt_size(944_000_000) == "944 MB" and fmt_size(5243924480) == "5.24 GB"
