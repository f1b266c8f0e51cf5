"""The `crossover` scenario and the `sweep` key: one factor swept on one pair of identical pools.

The program is evaluated once under mocks (offline/harness.py); the rest are config parses.
"""

from __future__ import annotations

import pytest

from components import dockerfiles
from offline.harness import PROJECT, evaluate
from stackconfig.errors import ConfigError
from stackconfig.images import SyntheticImageConfig
from stackconfig.workload_rules import PAIR_IDENTICAL
from stacks import program, scenarios
from stacks.config import parse_stack_config

CROSSOVER = {"scenario": "crossover", "location": "westus3"}
POOL = "pulumi-python:dynamic/aks:ExperimentPool"
BUILD = "pulumi-python:dynamic/acr:AcrBuild"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


@pytest.fixture(scope="module")
def evaluation():
    return evaluate(lambda: program.build(parse_stack_config(CROSSOVER)), CROSSOVER, stack="crossover")


def test_crossover_pairs_every_arm_on_two_identical_pools(evaluation):
    pools = {p.inputs.get("poolName", p.name): p for p in evaluation.of_type(POOL)}
    config = parse_stack_config(CROSSOVER)
    assert len(pools) == 2 and len(config.pools) == 2
    streaming, standard = config.pools
    assert streaming.artifact_streaming and not standard.artifact_streaming
    assert all(getattr(streaming, attr) == getattr(standard, attr) for _key, attr in PAIR_IDENTICAL)
    by_workload: dict[str, list] = {}
    for deployment in evaluation.of_type(DEPLOYMENT):
        labels = deployment.inputs["spec"]["template"]["metadata"]["labels"]
        by_workload.setdefault(labels["streaming-ab/workload"], []).append((deployment, labels))
    assert sorted(by_workload) == sorted(f"x-read-{v}" for v in (0, 1, 5, 25, 100))
    for workload, members in by_workload.items():
        assert len(members) == 2, workload
        (first, a), (second, b) = members
        spec_a, spec_b = first.inputs["spec"]["template"]["spec"], second.inputs["spec"]["template"]["spec"]
        assert {spec_a["nodeSelector"]["streaming-ab/pool"], spec_b["nodeSelector"]["streaming-ab/pool"]} == set(pools)
        # The same image, the same read: the arms differ only in their pool.
        assert spec_a["containers"][0]["image"] == spec_b["containers"][0]["image"]
        assert spec_a["containers"][0].get("env") == spec_b["containers"][0].get("env")
        assert a["streaming-ab/pair"] == b["streaming-ab/pair"] == "crossover"
        for labels in (a, b):
            assert labels["streaming-ab/factor"] == "readPercent"
            assert labels["streaming-ab/factor-value"] == workload.removeprefix("x-read-")
            assert labels["streaming-ab/vm-size"] == "Standard_D4ds_v5"
            assert labels["streaming-ab/fill"] == "random"
    # A read-share sweep builds its one image once.
    assert len(evaluation.of_type(BUILD)) == 1


def test_sweep_reads_its_share_of_the_payload():
    config = parse_stack_config(CROSSOVER)
    reads = {w.name: (w.startup_read_mb, w.factor.read_mb) for w in config.workloads}
    assert reads == {
        "x-read-0": (0, 0),
        "x-read-1": (20, 20),
        "x-read-5": (100, 100),
        "x-read-25": (500, 500),
        "x-read-100": (2000, 2000),
    }
    (image,) = config.synthetic_images
    assert (image.size_mb, image.layers, image.fill) == (2000, 1, "random")


def test_a_stack_sweeps_another_factor_with_one_key():
    sweep = {"factor": "sizeMb", "values": [500, 1000], "pools": ["xon", "xoff"], "baseImage": "alpine"}
    config = parse_stack_config({**CROSSOVER, "sweep": sweep})
    assert [(i.size_mb, i.fill) for i in config.synthetic_images] == [(500, "random"), (1000, "random")]
    assert [w.factor.pod_labels()["streaming-ab/factor-value"] for w in config.workloads] == ["500", "1000"]
    fills = parse_stack_config({**CROSSOVER, "sweep": {**sweep, "factor": "fill", "values": None}})
    assert [i.fill for i in fills.synthetic_images] == ["random", "zero"]


def test_the_registry_stack_builds_the_crossover_image():
    config = parse_stack_config({"role": "registry", "location": "westus3"})
    assert "x-s2000-l1-random" in config.image_names()
    # A registry stack builds another sweep's images too, and declares no workload for them.
    other = parse_stack_config(
        {"role": "registry", "location": "westus3", "sweep": {"factor": "sizeMb", "values": [300, 600]}}
    )
    assert {"x-s300-l1-random", "x-s600-l1-random"} <= set(other.image_names()) and not other.workloads


@pytest.mark.parametrize(
    ("sweep", "key", "words"),
    [
        ({"factor": "readPercent", "values": [0, 150]}, "sweep.values[1]", "allowed: whole numbers 0-100"),
        ({"factor": "fill", "values": ["zero", "ones"]}, "sweep.values[1]", "allowed: random, zero"),
        ({"factor": "layers", "values": [1, 1]}, "sweep.values", "two or more different values"),
        ({"factor": "sizeMb", "values": [5, 10], "layers": 8}, "sweep", "sizeMb >= layers"),
        ({"pools": ["xon"]}, "sweep.pools", "are not two configured pools"),
        ({"pools": ["xoff", "xon"]}, "sweep.pools", "the first pool must stream"),
        ({"factor": "speed"}, "sweep.factor", ""),
        (
            {"factor": "readPercent", "readPercent": 50},
            "sweep.readPercent",
            "not used while sweep.factor is readPercent",
        ),
        ({"factor": "sizeMb", "values": [5, 10], "sizeMb": 5}, "sweep.sizeMb", "not used while sweep.factor is"),
    ],
)
def test_bad_sweeps_stop_before_anything_is_declared(sweep, key, words):
    base = {"pools": ["xon", "xoff"], "baseImage": "alpine"}
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({**CROSSOVER, "sweep": {**base, **sweep}})
    assert any(p.startswith(f"{PROJECT}:{key}:") and words in p for p in raised.value.problems), raised.value.problems


def test_sweep_pools_must_be_identical_but_for_streaming():
    pools = parse_stack_config(CROSSOVER).pools
    wider = [pools[0].model_dump(by_alias=True), {**pools[1].model_dump(by_alias=True), "vmSize": "Standard_D8ds_v5"}]
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({**CROSSOVER, "pools": wider})
    assert any("sweep.pools: the pools differ in vmSize" in p for p in raised.value.problems)


def test_random_fill_is_the_default_and_zero_only_by_choice():
    image = SyntheticImageConfig.model_validate({"target": "t/x:v1", "sizeMb": 4, "layers": 1})
    assert image.fill == "random"
    text = dockerfiles.filled_dockerfile("alpine:3.20", 4, 1, image.fill, "busybox:1.37", 4)
    assert "/dev/urandom" in text and "/dev/zero" not in text
    # Only the blog's reproduction asks for zero, by name.
    zero = [
        (name, i["name"])
        for name, scenario in scenarios.EXPERIMENTS.items()
        for i in scenario.get("syntheticImages", [])
        if i.get("fill") == "zero"
    ]
    assert zero == [("storage-matrix", "largeimage")]
    assert parse_stack_config(CROSSOVER).synthetic_images[0].fill == "random"
