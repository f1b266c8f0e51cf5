"""Determinism: the same stack file always declares the same stack.

For every Pulumi.<stack>.yaml the program is evaluated under mocks twice in this process and once in a
fresh interpreter with a different PYTHONHASHSEED (a `pulumi up` runs the program in a new process each
time, so that is the comparison that matters), and everything the engine would diff must be identical:
each resource's type, name, parent, dependencies and inputs (including the dynamic providers' pickled
`__provider`), and the exports. Random values may only come from pulumi-random resources (their result
lives in the state), inputs carry no timestamps, and role-assignment names are a function of what they
grant.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.cluster import role_assignment_name
from offline.fakes.azure_base import random_string
from offline.stack_files import evaluate_stack, snapshot, stack_files, stack_name, stack_values
from stacks.config import parse_stack_config

ROOT = Path(__file__).resolve().parents[2]
STACK_FILES = stack_files()  # the stacks with a cluster; the registry stack has its own test
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
# ISO 8601 date-times and compact date stamps such as 20250101T1200.
TIMESTAMP_RE = re.compile(r"(19|20)\d\d-?[01]\d-?[0-3]\d[T ][0-2]\d:?[0-5]\d")
# Pulumi's marker for a secret value in serialized properties.
SECRET_SIG = "4dabf18193072939515e22adb298388d"
# What the pulumi-random fake answers (a value already in state), for a 60-character string.
RANDOM_RESULT = random_string("suffix", {"length": 60})["result"]


def snapshot_in_fresh_process(stack_file: Path, hash_seed: str) -> dict[str, Any]:
    code = (
        "import json, sys\nfrom pathlib import Path\n"
        "from offline.stack_files import evaluate_stack, snapshot\n"
        "print(json.dumps(snapshot(evaluate_stack(Path(sys.argv[1]))), sort_keys=True))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(stack_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONHASHSEED": hash_seed},
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def strings_and_numbers(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings_and_numbers(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from strings_and_numbers(item, f"{path}[{i}]")
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        yield path, value


def provider_diffs(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """Names of the resources whose pickled dynamic provider differs (for a precise failure message)."""
    providers = {(r["type"], r["name"]): r["inputs"].get("__provider") for r in second["resources"]}
    return [
        r["name"] for r in first["resources"] if r["inputs"].get("__provider") != providers.get((r["type"], r["name"]))
    ]


@pytest.fixture(scope="module", params=STACK_FILES, ids=stack_name)
def stack_file(request) -> Path:
    return request.param


@pytest.fixture(scope="module")
def first(stack_file) -> dict[str, Any]:
    return snapshot(evaluate_stack(stack_file))


def test_every_stack_file_is_covered():
    assert {stack_name(p) for p in STACK_FILES} >= {"dev", "teleport"}


def test_two_evaluations_declare_the_same_stack(stack_file, first):
    second = snapshot(evaluate_stack(stack_file))
    assert provider_diffs(first, second) == []
    assert first["resources"] == second["resources"]
    assert first["exports"] == second["exports"] and first["secret"] == second["secret"]


def test_a_fresh_interpreter_declares_the_same_stack(stack_file, first):
    # A different string-hash seed: catches set/dict-order leaks into inputs and into pickled providers.
    other = snapshot_in_fresh_process(stack_file, hash_seed="12345")
    assert provider_diffs(first, other) == []
    assert first["resources"] == other["resources"]
    assert first["exports"] == other["exports"] and first["secret"] == other["secret"]


def test_dynamic_resources_carry_their_pickled_provider(first):
    # The comparisons above include `__provider` only if it is there to compare. The SDK sends it as a
    # secret (encrypted in state), which the harness records with its secret marker.
    dynamic = [r for r in first["resources"] if r["type"].startswith("pulumi-python:dynamic/")]
    assert dynamic
    for resource in dynamic:
        pickled = resource["inputs"]["__provider"]
        if isinstance(pickled, dict) and SECRET_SIG in pickled:
            pickled = pickled["value"]
        assert isinstance(pickled, str) and base64.b64decode(pickled), resource["name"]


def test_inputs_and_exports_carry_no_timestamps(first):
    now = time.time()
    values = [
        (f"{r['name']}{path}", v)
        for r in first["resources"]
        for path, v in strings_and_numbers({k: v for k, v in r["inputs"].items() if k != "__provider"})
    ]
    values += [(f"export{path}", v) for path, v in strings_and_numbers(first["exports"])]
    for where, value in values:
        if isinstance(value, str):
            assert not TIMESTAMP_RE.search(value), f"{where} looks like a timestamp: {value!r}"
        else:
            # Epoch seconds or milliseconds of today.
            assert not (now - 86400 < value < now + 86400), f"{where} looks like an epoch time: {value}"
            assert not (now * 1000 - 86_400_000 < value < now * 1000 + 86_400_000), where


def test_randomness_comes_only_from_pulumi_random(stack_file, first):
    # Python-side randomness (random, uuid4, os.urandom) differs between the two interpreters compared
    # above, so any of it in a declared input already fails those tests. What remains to show: the one
    # random value the stack needs, the registry name's suffix, is a pulumi-random result (kept in state).
    (suffix,) = [r for r in first["resources"] if r["type"] == "random:index/randomString:RandomString"]
    (registry,) = [r for r in first["resources"] if r["type"] == "azure-native:containerregistry:Registry"]
    prefix = parse_stack_config(stack_values(stack_file)).name_prefix
    assert registry["inputs"]["registryName"] == prefix + RANDOM_RESULT[: int(suffix["inputs"]["length"])]


def test_role_assignment_names_are_a_function_of_what_they_grant(stack_file, first):
    assignments = [r for r in first["resources"] if r["type"] == ROLE_ASSIGNMENT]
    assert assignments, "attach mode grants AcrPull through a role assignment"
    for assignment in assignments:
        inputs = assignment["inputs"]
        role_id = inputs["roleDefinitionId"].rsplit("/", 1)[-1]
        name = inputs["roleAssignmentName"]
        assert uuid.UUID(name).version == 5
        assert name == role_assignment_name(inputs["scope"], inputs["principalId"], role_id)
    # Recycling the experiment nodes must not touch the grant.
    recycled = snapshot(evaluate_stack(stack_file, {"cacheGeneration": 7}))
    assert [r["inputs"]["roleAssignmentName"] for r in recycled["resources"] if r["type"] == ROLE_ASSIGNMENT] == [
        r["inputs"]["roleAssignmentName"] for r in assignments
    ]
