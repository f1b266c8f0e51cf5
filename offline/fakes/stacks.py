"""`pulumi.StackReference`: the outputs of another stack, as `evaluate(..., stack_references=...)` gives them."""

from __future__ import annotations

from typing import Any

from offline.fakes import resource_fake

# Stack name -> its outputs; set by the harness for one evaluation.
REFERENCED_STACKS: dict[str, dict[str, Any]] = {}


@resource_fake("pulumi:pulumi:StackReference")
def stack_reference(name, inputs):
    stack = inputs.get("name", name)
    if stack not in REFERENCED_STACKS:
        raise AssertionError(f"the program references stack {stack!r}, which the test did not provide")
    return {"outputs": dict(REFERENCED_STACKS[stack]), "secretOutputNames": []}
