"""Read the running stack's configuration: scenario defaults, then the stack's own keys, validated once.

`load_stack_config()` reads every `acr-streaming-ab:*` key through `pulumi.Config`, lays the stack's
keys over the chosen scenario's defaults (a stack key replaces the scenario's value whole), and
returns the frozen `StackConfig`, or raises one `ConfigError` naming every bad key before anything
is declared.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi
import pydantic

from contract import PROJECT
from stackconfig.errors import ConfigError, problems_of
from stackconfig.model import StackConfig, is_derived
from stacks import scenarios

# Keys no cross-key rule reads: when only these are wrong, the rest is still checked with defaults in
# their place, so one run reports every problem.
INDEPENDENT_KEYS = (
    "location",
    "namePrefix",
    "workloadNamespace",
    "loadBalancerSourceRanges",
    "cacheGeneration",
    "parked",
    "timeouts",
)

CONFIG_KEYS = tuple(field.alias or name for name, field in StackConfig.model_fields.items() if not is_derived(field))


# What an experiment stack takes from its registry stack instead: set in its stack file, they would be
# silently ignored, so they are refused (the scenario's own are simply not used).
REGISTRY_SIDE_KEYS = ("images", "syntheticImages", "registry")


def parse_stack_config(stack_values: Mapping[str, Any]) -> StackConfig:
    """Validate plain config values (keys without the project prefix) laid over their scenario."""
    if stack_values.get("registryStack") is not None:
        ignored = [k for k in REGISTRY_SIDE_KEYS if k in stack_values]
        if ignored:
            raise ConfigError(
                [
                    f"{PROJECT}:{key}: an experiment stack (registryStack) takes its images and registry from "
                    f"{stack_values['registryStack']}, so this key would be ignored; allowed: set it in the "
                    "registry stack's file"
                    for key in ignored
                ]
            )
    default = scenarios.REGISTRY_SCENARIO if stack_values.get("role") == "registry" else scenarios.DEFAULT_SCENARIO
    scenario_name = stack_values.get("scenario", default)
    if not isinstance(scenario_name, str) or scenario_name not in scenarios.SCENARIOS:
        raise ConfigError(
            [f"{PROJECT}:scenario: unknown scenario {scenario_name!r}; allowed: {', '.join(scenarios.SCENARIOS)}"]
        )
    merged = {**scenarios.SCENARIOS[scenario_name], **stack_values, "scenario": scenario_name}
    try:
        return StackConfig.model_validate(merged)
    except pydantic.ValidationError as error:
        found = problems_of(error)
        failed = {e["loc"][0] for e in error.errors() if e["loc"]}
    if failed and failed <= set(INDEPENDENT_KEYS):
        rest = {k: v for k, v in merged.items() if k not in failed}
        try:
            StackConfig.model_validate(rest)
        except pydantic.ValidationError as more:
            found += [p for p in problems_of(more) if p not in found]
    raise ConfigError(found)


def _stack_keys() -> list[str]:
    """The project's keys the stack sets.

    The SDK can read a key (`pulumi.Config.get`) but has no call that lists a namespace, and an unknown
    key (a typo) must be refused, not ignored: so the key names come from the engine's config map.
    """
    from pulumi.runtime import config as runtime_config

    names = {*runtime_config.get_config_env(), *runtime_config.CONFIG.get()}
    return sorted(key.partition(":")[2] for key in names if key.partition(":")[0] == PROJECT)


def _secret_keys() -> set[str]:
    """The project's keys set with `pulumi config set --secret` (their values are never read here)."""
    from pulumi.runtime import config as runtime_config

    return {key for key in _stack_keys() if runtime_config.is_config_secret(f"{PROJECT}:{key}")}


def read_pulumi_config() -> dict[str, Any]:
    """Every `acr-streaming-ab:*` value of the running stack, JSON-decoded where it is structured.

    Secret keys other than the model's own are left unread: they hold registry passwords, which reach
    the program only as secret Outputs (`stacks/program.py`); `check_password_keys` vets their names.
    """
    config = pulumi.Config(PROJECT)
    values: dict[str, Any] = {}
    secrets = _secret_keys()
    stack_keys = _stack_keys()
    # Only the model's keys are read: an unknown key may be a password set without --secret.
    for key in stack_keys:
        if key not in CONFIG_KEYS:
            continue
        text = config.get(key)
        try:
            values[key] = json.loads(text) if text is not None else None
        except ValueError:
            values[key] = text
    unknown = [k for k in stack_keys if k not in CONFIG_KEYS and k not in secrets]
    if unknown:
        passwords = _named_password_keys(values.get("images"))
        raise ConfigError([_unknown_key_problem(k, passwords.get(k)) for k in unknown])
    return values


def _named_password_keys(images: Any) -> dict[str, int]:
    """`images[i].credentials.passwordKey` of the raw (not yet validated) images, key -> i."""
    out: dict[str, int] = {}
    for i, image in enumerate(images if isinstance(images, list) else []):
        credentials = image.get("credentials") if isinstance(image, dict) else None
        key = credentials.get("passwordKey") if isinstance(credentials, dict) else None
        if isinstance(key, str):
            out.setdefault(key, i)
    return out


def _unknown_key_problem(key: str, image_index: int | None) -> str:
    if image_index is None:
        return f"{PROJECT}:{key}: unknown key; allowed: {', '.join(CONFIG_KEYS)}"
    return (
        f"{PROJECT}:{key}: images[{image_index}].credentials.passwordKey names this key, but it is set in plain "
        f"text (stored unencrypted in the stack file); allowed: `pulumi config set --secret {key} <password>`"
    )


def check_password_keys(config: StackConfig, secret_keys: set[str]) -> None:
    """Every `credentials.passwordKey` names a secret key of the stack, and every other secret key is known."""
    found = []
    named = set()
    for i, image in enumerate(config.images):
        if image.credentials is None:
            continue
        key = image.credentials.password_key
        named.add(key)
        if key in CONFIG_KEYS or key not in secret_keys:
            found.append(
                f"{PROJECT}:images[{i}].credentials.passwordKey: {key!r} is not a secret key of this stack; "
                f"allowed: a key set with `pulumi config set --secret {key} <password>` (not a configuration key)"
            )
    found += [
        f"{PROJECT}:{key}: unknown secret key; allowed: a key named by images[].credentials.passwordKey"
        for key in sorted(secret_keys - named - set(CONFIG_KEYS))
    ]
    if found:
        raise ConfigError(found)


def source_passwords(config: StackConfig) -> dict[str, pulumi.Output[str]]:
    """Each private image's password, by image name: a secret Output, never a plain value."""
    secrets = pulumi.Config(PROJECT)
    return {
        image.name: secrets.require_secret(image.credentials.password_key)
        for image in config.images
        if image.credentials is not None
    }


def load_stack_config() -> StackConfig:
    config = parse_stack_config(read_pulumi_config())
    check_password_keys(config, _secret_keys())
    return config
