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


def waterfall_pod(name, arm, trial, ready, pull=(1.0, 2.0), cls="cold"):
    """One pod of a report as the waterfall reads it (pods[]): a pull, then start and Ready."""
    return {
        "name": name,
        "arm": arm,
        "trial": trial,
        "class": cls,
        "containers": [{"source": "pulled", "pull_start_seconds": pull[0], "pull_end_seconds": pull[1]}],
        "scheduled_seconds": 0.0,
        "started_seconds": ready - 1,
        "ready_seconds": ready,
        "app_ready_seconds": None,
    }


def waterfall_report(pods_per_arm, ready_std=30.0, ready_art=3.0, trials=("1",)):
    """A report of one comparison (arms a-std, a-art) with ``pods_per_arm`` pods per arm and trial."""
    pods = []
    for trial in trials:
        for i in range(pods_per_arm):
            pods.append(
                waterfall_pod(f"std-{trial}-{i:05d}", "a-std", trial, ready_std + i % 7, pull=(1.0, ready_std - 2))
            )
            pods.append(waterfall_pod(f"art-{trial}-{i:05d}", "a-art", trial, ready_art + i % 3))
    arms = {
        "a-std": {"trials": [{"trial": t} for t in trials]},
        "a-art": {"trials": [{"trial": t} for t in trials]},
    }
    comparison = {"workload": "w", "pair": None, "baseline_arm": "a-std", "streaming_arm": "a-art", "speedup": {}}
    return {"pods": pods, "arms": arms, "comparisons": [comparison]}


@pytest.fixture(scope="session")
def make_report():
    """Builds a fresh copy on each call, so a test may change it."""
    return three_trial_report


@pytest.fixture(scope="session")
def results_writer():
    return write_results
