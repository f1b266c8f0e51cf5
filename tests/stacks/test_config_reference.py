"""docs/configuration.md is generated from the config model and must not go stale."""

from __future__ import annotations

from stackconfig.model import StackConfig, is_derived
from stacks import config_reference


def test_committed_reference_matches_the_model():
    assert config_reference.TARGET.read_text() == config_reference.render(), (
        "docs/configuration.md is stale: run venv/bin/python -m stacks.config_reference"
    )


def test_every_stack_key_is_documented():
    text = config_reference.render()
    for name, field in StackConfig.model_fields.items():
        if not is_derived(field):
            assert f"| `{field.alias or name}` |" in text
    assert "| `pools[].artifactStreaming` |" in text and "| `workloads[].arms[].pair` |" in text
