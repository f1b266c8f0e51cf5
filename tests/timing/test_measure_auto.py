"""``measure --trials auto`` on the fake cluster (offline.kube_cluster): a pilot of 3, then as many trials
as the precision target needs, capped, each extension announced with its duration and node-hours."""

import itertools

import pytest

from offline.clock import FakeClock
from offline.kube_cluster import FakeCluster, counter_ids, default_pools, vote_workloads
from timing.measure.auto import AutoTrials, cost, more_trials
from timing.measure.discovery import discover
from timing.measure.resets import PurgeReset
from timing.measure.runner import Runner


class VaryingPulls:
    """A purge that also changes how long the standard pool's pulls take, trial by trial: spread."""

    def __init__(self, purge, cluster, standard_pulls):
        self.purge, self.cluster, self.pulls = purge, cluster, itertools.cycle(standard_pulls)
        self.name = purge.name

    def reset(self, ctx):
        self.cluster.pull_seconds = {False: next(self.pulls), True: 5.0}
        return self.purge.reset(ctx)

    def close(self):
        self.purge.close()


def _run(tmp_path, plan, standard_pulls):
    clock = FakeClock()
    cluster = FakeCluster(clock, default_pools(), vote_workloads(1))
    said = []
    resetter = VaryingPulls(PurgeReset(cluster, clock, 120, 1.0), cluster, standard_pulls)
    runner = Runner(
        cluster, resetter, clock, tmp_path / "results", timeout=300, poll=1.0, id_factory=counter_ids(), say=said.append
    )
    return runner.run(discover(cluster, ["streaming-ab"], None, None, None), plan), said


def test_a_pilot_then_extensions_until_the_target_is_reached_or_capped(tmp_path):
    manifests, said = _run(tmp_path, AutoTrials(precision=0.10, max_trials=8), [30.0, 45.0, 22.0, 38.0])
    assert len(manifests) == 8  # the spread needs more than 8 trials: capped
    extensions = [s for s in said if "more trial(s)" in s]
    assert extensions and "node-hours" in extensions[0] and "median trial" in extensions[0]
    assert said[-1] == "stopped at --max-trials 8: the precision target may not be reached"


def test_no_spread_stops_after_the_pilot(tmp_path):
    manifests, said = _run(tmp_path, AutoTrials(precision=0.10, max_trials=8), [30.0])
    assert len(manifests) == 3 and said[-1].startswith("precision target ±10% reached after 3 trial(s)")


def test_more_trials_reads_the_spread_of_counted_trials():
    def report(ratios):
        per_trial = [{"ratio": r} for r in ratios]
        return {"comparisons": [{"workload": "w", "pair": "p", "speedup": {"per_trial": per_trial}}]}

    assert more_trials(report([4.0]), 0.1)[0] == 1  # one counted trial: one more to learn the spread
    extra, why = more_trials(report([4.0, 5.0, 6.0]), 0.1)
    assert extra > 0 and "sd(ln ratio)" in why
    assert more_trials(report([4.0, 4.0, 4.0]), 0.1)[0] <= 0


def test_cost_is_trials_times_the_median_duration_times_nodes():
    taken = [{"duration_seconds": d, "nodes": {"a": ["n1"], "b": ["n2"]}} for d in (600, 540, 660)]
    assert cost(taken, 3) == "about 30 min and 1.00 node-hours (median trial 600 s, 2 node(s))"
    assert cost([], 3) == "duration unknown (no trial finished)"


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--trials", "5", "--precision", "10%"], "--precision sets the target of --trials auto"),
        (["--trials", "auto", "--max-trials", "2"], "--max-trials 2: --trials auto starts with a pilot of 3"),
        (["--trials", "auto", "--precision", "150%"], "150% must be between 0% and 100%"),
    ],
)
def test_auto_flag_mistakes_are_one_line(argv, words, capsys):
    from timing.cli import main

    code = main(["measure", "--kubeconfig", "/dev/null", "--reset", "purge", "--purge-image", "b@sha256:0", *argv])
    assert code == 2 and words in capsys.readouterr().err
