"""Reports and results folders for the hand-on outputs (HTML, Markdown, gates, compare), from constructed dumps."""

from __future__ import annotations

import pytest

from offline.timing_dumps import BIG, load, pod, pulled, write_results
from timing.analysis.report import build_report

STREAMING_READY = {"1": 5.0, "2": 6.0, "3": 5.5}
STANDARD_READY = {"1": 40.0, "2": 44.0, "3": 38.0}


def three_trial_report() -> dict:
    """Two pods per arm and trial; the standard arm pulls for most of its start, the streaming arm briefly."""
    pods, events = [], []
    for trial in ("1", "2", "3"):
        offset = 1000.0 * int(trial)
        for i in range(2):
            ready_std, ready_art = offset + STANDARD_READY[trial] + i, offset + STREAMING_READY[trial] + i
            std = pod(
                f"vote-std-{trial}-{i}",
                arm="vote-standard",
                workload="vote",
                pair="v1",
                trial=trial,
                created=offset,
                scheduled=offset,
                started=ready_std - 1,
                ready=ready_std,
                node="aks-std-0",
            )
            art = pod(
                f"vote-art-{trial}-{i}",
                arm="vote-streaming",
                streaming=True,
                workload="vote",
                pair="v1",
                trial=trial,
                created=offset,
                scheduled=offset,
                started=ready_art - 1,
                ready=ready_art,
                node="aks-art-0",
            )
            pods += [std, art]
            events += pulled(std, BIG, offset + 1, ready_std - 2) + pulled(art, BIG, offset + 1, ready_art - 3)
    loaded_pods, loaded_events = load(pods, events)
    return build_report(loaded_pods, loaded_events)


@pytest.fixture(scope="session")
def make_report():
    """Builds a fresh copy on each call, so a test may change it."""
    return three_trial_report


@pytest.fixture(scope="session")
def results_writer():
    return write_results
