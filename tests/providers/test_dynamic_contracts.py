"""Contracts that mocks cannot check: what each dynamic provider returns, and what the engine hands it.

Design notes: docs/verification.md ("tests/providers/test_dynamic_contracts.py").
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic
import pytest
from pulumi.runtime import rpc

from offline import fakes
from tests.providers.scenarios.contracts import (
    NAMES,
    OTHER_TENANT,
    PROVIDER_KEY,
    SPECS,
    Spec,
    created,
    declare,
    engine_inputs,
    host_view,
    serialized_provider,
)

fakes.load_all()

ROOT = Path(__file__).resolve().parents[2]


def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.capitalize() for part in rest)


def declared_outputs(spec: Spec) -> set[str]:
    return declare(spec).outputs | set(inspect.get_annotations(spec.resource))


def state_of(spec: Spec) -> dict[str, Any]:
    """The resource's state after create, as the engine stores it and hands it back."""
    result, _ = created(spec)
    return {**result.outs, PROVIDER_KEY: serialized_provider(spec)}


# == 1. Output names ====================================================================================
def test_specs_cover_every_dynamic_resource_in_providers():
    found = set()
    for path in (ROOT / "providers").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                ast.unparse(base) in ("dynamic.Resource", "pulumi.dynamic.Resource") for base in node.bases
            ):
                found.add(node.name)
    assert found == set(SPECS)


@pytest.mark.parametrize("name", NAMES)
def test_every_annotated_output_is_registered(name):
    """An annotation without a registered prop would be an attribute that never exists."""
    spec = SPECS[name]
    declared = declare(spec)
    assert set(inspect.get_annotations(spec.resource)) <= set(declared.props)
    # RepositoryStreaming's one output is its input `convertPushedImages`: no placeholder needed.
    assert declared.outputs or set(inspect.get_annotations(spec.resource)) <= set(spec.inputs)
    assert not declared.outputs & set(spec.inputs), "an input registered as None"


@pytest.mark.parametrize("name", NAMES)
def test_create_outs_cover_the_declared_outputs(name):
    spec = SPECS[name]
    result, transport = created(spec)
    outs = set(result.outs)
    assert declared_outputs(spec) <= outs, f"missing: {sorted(declared_outputs(spec) - outs)}"
    assert set(spec.inputs) <= outs  # inputs are echoed, so refresh and update see them
    assert PROVIDER_KEY not in outs  # the host adds it back itself
    assert result.id
    assert transport.unused() == []
    spec.check_sent(transport)


@pytest.mark.parametrize("name", NAMES)
def test_read_and_update_outs_cover_the_declared_outputs(name):
    spec = SPECS[name]
    result, _ = created(spec)
    state = host_view(state_of(spec))
    read = spec.read(result.id, state)
    assert read.id == result.id
    assert declared_outputs(spec) - {k for k, v in result.outs.items() if v is None} <= set(read.outs)

    # An in-place update (only the tenant: no Azure call) keeps every output.
    news = host_view(engine_inputs(spec, tenantId=OTHER_TENANT))
    provider = type(declare(spec).provider)(lambda *_: pytest.fail("a tenant-only update must not call Azure"))
    updated = provider.update(result.id, state, news)
    # (None outputs, like an absent passwordExpiry, never reach the state: the host drops them.)
    assert {k for k, v in result.outs.items() if v is not None} <= set(updated.outs)
    assert updated.outs["tenantId"] == OTHER_TENANT
    for key in declared_outputs(spec):
        assert updated.outs.get(key) == result.outs.get(key), key


@pytest.mark.parametrize("name", NAMES)
def test_mock_fake_computes_exactly_what_the_provider_computes(name):
    """offline/fakes answers for the provider under mocks: same output names, so they cannot diverge."""
    spec = SPECS[name]
    result, _ = created(spec)
    fake = fakes.RESOURCE_FAKES.get(spec.type_token)
    assert fake is not None, f"no mock fake registered for {spec.type_token}"
    computed_by_fake = set(fake("contract", dict(spec.inputs))) - {"id"}  # `id` is the resource id
    computed_by_provider = set(result.outs) - set(spec.inputs)
    assert computed_by_fake == computed_by_provider


class _Sentinel:
    def __init__(self, key: str):
        self.key = key


def _resolve(spec: Spec, attribute: str) -> str:
    """The prop an attribute of the Resource reads (a registered prop, or a property returning one)."""
    declared = declare(spec)
    if attribute in declared.props:
        return attribute
    prop = inspect.getattr_static(spec.resource, attribute, None)
    assert isinstance(prop, property), f"{spec.resource.__name__}.{attribute} is neither a prop nor a property"
    instance = object.__new__(spec.resource)
    for key in declared.props:
        object.__setattr__(instance, key, _Sentinel(key))
    value = prop.fget(instance)
    assert isinstance(value, _Sentinel), f"{spec.resource.__name__}.{attribute} does not return a prop"
    return value.key


@pytest.mark.parametrize("name", NAMES)
def test_python_properties_resolve_to_outputs_the_provider_returns(name):
    spec = SPECS[name]
    result, _ = created(spec)
    properties = [n for n, v in vars(spec.resource).items() if isinstance(v, property)]
    for attribute in properties:
        key = _resolve(spec, attribute)
        assert key == camel(attribute), f"{attribute} reads {key}"
        assert key in result.outs


def component_reads() -> set[tuple[str, str]]:
    """(Resource class, attribute) for every `x.attr` in components/ where `x = <DynamicResource>(...)`."""
    names = {spec.resource.__name__ for spec in SPECS.values()}
    reads: set[tuple[str, str]] = set()
    for path in sorted((ROOT / "components").glob("*.py")):
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            bound: dict[str, str] = {}
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Assign)
                    and isinstance(node.value, ast.Call)
                    and isinstance(node.value.func, ast.Name)
                    and node.value.func.id in names
                ):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            bound[target.id] = node.value.func.id
            for node in ast.walk(function):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound:
                    reads.add((bound[node.value.id], node.attr))
    # StreamingCluster reads its pools through `self.pool_resources[name].properties`.
    reads.add(("ExperimentPool", "properties"))
    return reads


def test_attributes_the_components_read_are_outputs_the_providers_return():
    reads = component_reads()
    # The scan sees what the components are known to read (so it is not vacuous).
    assert {
        ("ImportedImage", "digest"),
        ("ImportedImage", "ref"),
        ("ExistingImage", "digest"),
        ("ExistingImage", "ref"),
        ("StreamingArtifact", "streaming_artifact_digest"),
        ("AcrBuild", "digest"),
        ("AcrBuild", "ref"),
        ("TokenCredentials", "username"),
        ("TokenCredentials", "password"),
    } <= reads
    by_class = {spec.resource.__name__: spec for spec in SPECS.values()}
    for class_name, attribute in sorted(reads):
        spec = by_class[class_name]
        result, _ = created(spec)
        assert _resolve(spec, attribute) in result.outs, f"{class_name}.{attribute}"


# == 2. What the engine really hands a dynamic provider ===================================================
def test_host_view_is_what_the_host_deserializes():
    """Pins the SDK behaviour these tests rely on (pulumi/dynamic/__main__.py, runtime/rpc.py)."""
    seen = host_view({"count": 1, "unknown": rpc.UNKNOWN, "nothing": None}, keep_unknowns=True)
    assert seen["count"] == 1.0 and type(seen["count"]) is float
    assert isinstance(seen["unknown"], pulumi.output.Unknown)
    assert "nothing" not in seen
    main = (Path(pulumi.__file__).parent / "dynamic" / "__main__.py").read_text()
    assert "olds = rpc.deserialize_properties(request.olds, True)" in main
    assert "news = rpc.deserialize_properties(request.news, True)" in main
    assert '"acceptSecrets": False' in main  # so the engine strips secrets before they reach a provider


@pytest.mark.parametrize("name", NAMES)
def test_diff_ignores_the_pickled_provider_and_the_timeout(name):
    spec = SPECS[name]
    provider = declare(spec).provider
    olds = host_view(state_of(spec), keep_unknowns=True)
    news = host_view(engine_inputs(spec, timeoutMinutes=spec.inputs["timeoutMinutes"] * 2), keep_unknowns=True)
    # A provider pickled with other captured state (a new `__provider` string) changes nothing either.
    news[PROVIDER_KEY] = news[PROVIDER_KEY] + "x"
    diff = provider.diff("id", olds, news)
    assert diff.changes is False and not diff.replaces


@pytest.mark.parametrize("name", NAMES)
def test_tenant_change_updates_in_place_and_identity_change_replaces(name):
    spec = SPECS[name]
    provider = declare(spec).provider
    olds = host_view(state_of(spec), keep_unknowns=True)
    tenant = provider.diff("id", olds, host_view(engine_inputs(spec, tenantId=OTHER_TENANT), keep_unknowns=True))
    assert tenant.changes is True and not tenant.replaces
    other = provider.diff("id", olds, host_view(engine_inputs(spec, **spec.identity_change), keep_unknowns=True))
    assert other.changes is True and set(spec.identity_change) <= set(other.replaces)


UPSTREAM = [(name, key) for name, spec in SPECS.items() for key in spec.upstream]


@pytest.mark.parametrize("name,key", UPSTREAM, ids=[f"{n}-{k}" for n, k in UPSTREAM])
@pytest.mark.parametrize("shape", ["host-3.272", "sentinel-string"])
def test_preview_diff_with_an_unknown_upstream_value_replaces(name, key, shape):
    """E.g. a StreamingArtifact whose digest comes from an import that is being replaced."""
    spec = SPECS[name]
    provider = declare(spec).provider
    olds = host_view(state_of(spec), keep_unknowns=True)
    news = host_view(engine_inputs(spec, **{key: rpc.UNKNOWN}), keep_unknowns=True)
    assert isinstance(news[key], pulumi.output.Unknown)
    if shape == "sentinel-string":  # what older hosts (and hand-written tests) pass
        news[key] = rpc.UNKNOWN
    diff = provider.diff("id", olds, news)
    assert diff.changes is True
    assert key in diff.replaces


@pytest.mark.parametrize("shape", ["host-3.272", "sentinel-string"])
def test_preview_diff_of_a_pool_with_an_unknown_nested_property_updates(shape):
    spec = SPECS["ExperimentPool"]
    provider = declare(spec).provider
    olds = host_view(state_of(spec), keep_unknowns=True)
    properties = {**spec.inputs["properties"], "count": rpc.UNKNOWN}
    news = host_view(engine_inputs(spec, properties=properties), keep_unknowns=True)
    if shape == "sentinel-string":
        news["properties"]["count"] = rpc.UNKNOWN
    diff = provider.diff("id", olds, news)
    assert diff.changes is True and diff.replaces == []


@pytest.mark.parametrize("name", NAMES)
def test_check_passes_unknowns_through_without_failures(name):
    spec = SPECS[name]
    provider = declare(spec).provider
    olds = host_view(state_of(spec), keep_unknowns=True)
    key = spec.upstream[-1]
    news = host_view(engine_inputs(spec, **{key: rpc.UNKNOWN}), keep_unknowns=True)
    checked = provider.check(olds, news)
    assert checked.failures == []
    assert isinstance(checked.inputs[key], pulumi.output.Unknown)
    assert checked.inputs["timeoutMinutes"] == spec.inputs["timeoutMinutes"]


# == 3. Read then diff: a refresh of an unchanged resource is no change ==================================
@pytest.mark.parametrize("name", NAMES)
def test_refresh_of_an_unchanged_resource_then_up_shows_no_change(name):
    spec = SPECS[name]
    result, _ = created(spec)
    read = spec.read(result.id, host_view(state_of(spec)))
    # The host puts `__provider` back into what read returns; the engine keeps the old inputs
    # (no provider returns ReadResult.inputs).
    refreshed = {**read.outs, PROVIDER_KEY: serialized_provider(spec)}
    assert read.inputs is None
    provider = declare(spec).provider
    diff = provider.diff(
        result.id, host_view(refreshed, keep_unknowns=True), host_view(engine_inputs(spec), keep_unknowns=True)
    )
    assert diff.changes is False and not diff.replaces
    for key in declared_outputs(spec):
        assert read.outs.get(key) == result.outs.get(key), key
