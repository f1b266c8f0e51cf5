"""The repository's Pulumi.<stack>.yaml files, read and evaluated under mocks the way `pulumi up` would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from offline.harness import PROJECT, Evaluation, evaluate
from stacks import program
from stacks.config import parse_stack_config

ROOT = Path(__file__).resolve().parents[1]


def stack_files(registry: bool = False) -> list[Path]:
    """The repository's stack files: the all-in-one stacks, or (registry=True) the shared registry's."""
    chosen = []
    for path in sorted(ROOT.glob("Pulumi.*.yaml")):
        config = yaml.safe_load(path.read_text()).get("config") or {}
        if (config.get(f"{PROJECT}:role") == "registry") == registry:
            chosen.append(path)
    return chosen


def stack_name(stack_file: Path) -> str:
    return stack_file.stem.split(".", 1)[1]


def stack_values(stack_file: Path) -> dict[str, Any]:
    """The project's config keys of a stack file, without the ``acr-streaming-ab:`` prefix."""
    config = yaml.safe_load(stack_file.read_text())["config"]
    return {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith(PROJECT + ":")}


def evaluate_stack(stack_file: Path, overrides: dict[str, Any] | None = None) -> Evaluation:
    values = {**stack_values(stack_file), **(overrides or {})}
    config = parse_stack_config(values)
    return evaluate(lambda: program.build(config), values, stack=stack_name(stack_file))


def snapshot(evaluation: Evaluation) -> dict[str, Any]:
    """What the engine would compare between two runs, as plain JSON-able data."""
    resources = [
        {
            "type": r.type,
            "name": r.name,
            "parent": r.parent,
            "inputs": r.inputs,
            "dependencies": sorted(evaluation.direct_dependencies(r)),
        }
        for r in evaluation.resources
    ]
    # Registration order follows when each resource's inputs resolve (asyncio), which the engine does
    # not diff; identity is (type, name, parent).
    resources.sort(key=lambda r: (r["type"], r["name"], r["parent"]))
    data = {"resources": resources, "exports": evaluation.outputs, "secret": sorted(evaluation.secret_outputs)}
    # Through JSON so that an in-process and an out-of-process snapshot compare alike.
    return json.loads(json.dumps(data, sort_keys=True, default=repr))
