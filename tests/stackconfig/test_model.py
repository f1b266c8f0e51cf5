"""The config model itself: frozen, derived keys resolved (never read), full-string patterns."""

from __future__ import annotations

import pydantic
import pytest

from stackconfig.errors import ConfigError, key_of, problems_of
from stackconfig.model import ArmConfig, PoolConfig, StackConfig
from stacks.config import parse_stack_config

BASE = {"scenario": "teleport-ab", "location": "westus3"}


def test_models_are_frozen():
    config = parse_stack_config(BASE)
    with pytest.raises(pydantic.ValidationError):
        config.location = "eastus"  # type: ignore[misc]


def test_derived_values_are_resolved():
    config = parse_stack_config(BASE)
    vote = config.workloads[0]
    assert [a.name for a in vote.arms] == ["vote-teleporter", "vote-shuttle"]
    assert {a.workload for a in vote.arms} == {"vote"} and [a.streaming for a in vote.arms] == [True, False]
    assert vote.port == 80 and config.all_workload_names == ("vote", "vote-squashed")
    assert [w.name for w in config.workloads] == ["vote"]  # activeWorkloads


def test_derived_keys_cannot_be_set_from_a_stack_file():
    with pytest.raises(pydantic.ValidationError) as raised:
        ArmConfig.model_validate({"pool": "teleporter", "streaming": True})
    assert problems_of(raised.value) == ["acr-streaming-ab:streaming: unknown key"]


@pytest.mark.parametrize("key, value", [("location", "westus3\n"), ("namePrefix", "streamab\n")])
def test_patterns_match_the_whole_value(key, value):
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({**BASE, key: value})
    assert any(p.startswith(f"acr-streaming-ab:{key}: ") for p in raised.value.problems)


def test_ephemeral_disk_size_is_resolved_from_the_vm_size():
    pool = PoolConfig.model_validate(
        {"name": "fast", "vmSize": "Standard_D4ds_v5", "osDiskType": "Ephemeral", "artifactStreaming": True}
    )
    assert pool.os_disk_size_gb == 128
    assert pool.node_labels == {"streaming-ab/pool": "fast", "streaming-ab/streaming": "true"}


def test_snake_case_names_are_not_config_keys():
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({**BASE, "name_prefix": "x"})
    assert any(p.startswith("acr-streaming-ab:name_prefix: unknown key") for p in raised.value.problems)


def test_stack_config_is_one_model():
    assert StackConfig.model_config["frozen"] and StackConfig.model_config["extra"] == "forbid"


@pytest.mark.parametrize(
    "loc, key",
    [
        (("workloads", 0, "container", "env", "1A", "[key]"), 'workloads[0].container.env["1A"]'),
        (("pools", 2, "labels", "example.com/x", "[key]"), 'pools[2].labels["example.com/x"]'),
        (("workloads", 0, "container", "env", "MODE"), "workloads[0].container.env.MODE"),
        (("images", 1, "source"), "images[1].source"),
    ],
)
def test_key_paths_print_mapping_keys_as_keys(loc, key):
    assert key_of(loc) == f"acr-streaming-ab:{key}"


def test_a_bad_environment_variable_name_is_named_by_its_key():
    workload = {
        "name": "mine",
        "template": "custom",
        "image": "redis",
        "container": {"readinessCommand": ["true"], "env": {"1A": "x"}},
        "arms": [{"pool": "teleporter"}, {"pool": "shuttle"}],
    }
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({**BASE, "workloads": [workload], "activeWorkloads": ["mine"]})
    (problem,) = [p for p in raised.value.problems if "env" in p]
    assert problem.startswith('acr-streaming-ab:workloads[0].container.env["1A"]: ') and "[key]" not in problem
