"""Contracts that mocks cannot check: what each dynamic provider returns, and what the engine hands it.

Design notes: docs/verification.md ("tests/providers/test_dynamic_contracts.py").
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import pulumi
import pulumi.dynamic
import pytest
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime._serialization import _serialize

from offline import fakes
from providers.acr_build import AcrBuild
from providers.acr_import import ImportedImage
from providers.acr_streaming import RepositoryStreaming, StreamingArtifact
from providers.acr_token_credentials import TokenCredentials
from providers.aks_agent_pool import ExperimentPool
from providers.base import AzureTarget
from tests.conftest import constructed_auth, recorded_once
from tests.providers import test_acr_build as build_tests
from tests.providers import test_acr_import as import_tests
from tests.providers import test_acr_streaming as streaming_tests
from tests.providers import test_acr_token_credentials as token_tests
from tests.providers import test_aks_agent_pool as pool_tests
from tests.replay import ReplayTransport, constructed

fakes.load_all()

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_KEY = "__provider"
OTHER_TENANT = "11111111-2222-3333-4444-555555555555"


# -- What the engine hands a dynamic provider ------------------------------------------------------------
def host_view(props: dict[str, Any], *, keep_unknowns: bool = False) -> dict[str, Any]:
    """`props` after the engine -> host round trip: a protobuf Struct deserialized like the host does.

    Create/Read/Update/Delete use `deserialize_properties(struct)`; Diff/Check pass `keep_unknowns=True`.
    Every number becomes a float, None values disappear, and `rpc.UNKNOWN` strings become
    `pulumi.output.Unknown()` where unknowns are kept.
    """
    struct = struct_pb2.Struct()
    struct.update(props)
    return rpc.deserialize_properties(struct, keep_unknowns)


def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.capitalize() for part in rest)


def snake(camel_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel_name).lower()


# -- One entry per dynamic resource ---------------------------------------------------------------------
@dataclass
class Spec:
    """A dynamic resource, its inputs as the program sends them, and replayed create/read sequences."""

    resource: type
    inputs: dict[str, Any]  # camelCase, without __provider
    create: Callable[[dict[str, Any]], tuple[Any, ReplayTransport]]
    read: Callable[[str, dict[str, Any]], Any]
    # Inputs another resource computes, so a preview may not know them: each must replace.
    upstream: tuple[str, ...]
    # Inputs whose change is a different Azure object (replacement).
    identity_change: dict[str, Any]
    check_sent: Callable[[ReplayTransport], None] = lambda transport: None
    extra_kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def type_token(self) -> str:
        return f"pulumi-python:{self.resource._resource_type_name}"

    def kwargs(self) -> dict[str, Any]:
        # Every input given a value (no None), so the None placeholders are exactly the outputs.
        values = {snake(k): v for k, v in self.inputs.items()}
        azure = AzureTarget(values.pop("subscription_id"), values.pop("tenant_id"))
        return {**values, "azure": azure, **self.extra_kwargs}


def _without_provider(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k != PROVIDER_KEY}


# ImportedImage: test_acr_import.py's recorded import (artifact_streaming#6-8) and tag read (#29-32).
def _import_create(props):
    provider, transport = import_tests.provider_for(recorded_once(import_tests.STREAMING, [6, 7, 8, 29, 30, 31, 32]))
    return provider.create(props), transport


def _import_read(id_, props):
    provider, _ = import_tests.provider_for(recorded_once(import_tests.STREAMING, [29, 30, 31, 32]))
    return provider.read(id_, props)


# StreamingArtifact: test_acr_streaming.py's conversion (auth, no referrer, POST, Running, Succeeded).
def _artifact_create(props):
    provider, transport = streaming_tests.provider_for(
        [
            *streaming_tests.rec(*streaming_tests.PULL_AUTH, 40, 46, 23, 47),
            streaming_tests.operation("Running", "40%"),
            streaming_tests.operation("Succeeded"),
            streaming_tests.referrers(streaming_tests.ARTIFACT),
        ]
    )
    return provider.create(props), transport


def _artifact_read(id_, props):
    provider, _ = streaming_tests.provider_for(
        [*streaming_tests.rec(*streaming_tests.PULL_AUTH), streaming_tests.referrers(streaming_tests.ARTIFACT)]
    )
    return provider.read(id_, props)


# RepositoryStreaming: recorded auth + POST _streaming (#21-24); read as in the delete test (#11, #14, #15).
def _repository_create(props):
    provider, transport = streaming_tests.repo_provider_for(streaming_tests.rec(21, 22, 23, 24))
    return provider.create(props), transport


def _repository_read(id_, props):
    provider, _ = streaming_tests.repo_provider_for(
        [
            *streaming_tests.rec(11, 14, 15),
            constructed("GET", streaming_tests.REPO_URL, 200, {"convertPushedImages": True}),
        ]
    )
    return provider.read(id_, props)


# AcrBuild: test_acr_build.py's constructed upload, scheduleRun and run polled to Succeeded.
def _build_create(props):
    transport = ReplayTransport(
        [
            *build_tests.upload(),
            constructed("POST", f"{build_tests.ARM}/scheduleRun", 200, build_tests.run("Queued")),
            constructed(
                "GET", f"{build_tests.ARM}/runs/cb1", 200, build_tests.run("Succeeded", **build_tests.pushed())
            ),
        ]
    )
    return build_tests.provider_for(transport).create(props), transport


# Read: data-plane auth (constructed: no recording has streamabx7k2q9) and the tag still at the pushed digest.
def _build_read(id_, props):
    login = props["loginServer"]
    transport = ReplayTransport(
        [*constructed_auth(login), build_tests.tag_answer(login, props["target"], build_tests.DIGEST)]
    )
    result = build_tests.provider_for(transport).read(id_, props)
    assert transport.unused() == []
    return result


def _build_sent(transport: ReplayTransport) -> None:
    (schedule,) = transport.requests_to("/scheduleRun")
    # timeoutMinutes arrived as 60.0; DockerBuildRequest.timeout is an int32 of seconds.
    assert schedule.body["timeout"] == 3600 and type(schedule.body["timeout"]) is int


# ExperimentPool: test_aks_agent_pool.py's PUT -> operation -> GET sequence for `fastart`.
def _pool_create(props):
    transport = ReplayTransport(pool_tests.put_sequence(props, "op-create"))
    return pool_tests.provider_for(transport).create(props), transport


def _pool_read(id_, props):
    live = pool_tests.arm_pool(props, orchestratorVersion="1.33.2")
    transport = ReplayTransport([constructed("GET", pool_tests.pool_url(props["poolName"]), 200, live)])
    return pool_tests.provider_for(transport).read(id_, props)


def _pool_sent(transport: ReplayTransport) -> None:
    (put,) = [r for r in transport.sent if r.method == "PUT"]
    # count and osDiskSizeGB arrived as 1.0 and 128.0; ARM's int32 fields get 1 and 128.
    assert type(put.body["properties"]["count"]) is int
    assert type(put.body["properties"]["osDiskSizeGB"]) is int


# TokenCredentials: test_acr_token_credentials.py's generateCredentials (202 + location) and token GET.
def _token_create(props):
    transport = ReplayTransport(token_tests.generate_sequence(token_tests.LOCATION))
    return token_tests.provider_for(transport).create(props), transport


def _token_read(id_, props):
    transport = ReplayTransport(
        [
            constructed(
                "GET",
                token_tests.TOKEN,
                200,
                token_tests.token_body([{"name": "password1", "creationTime": token_tests.CREATED}]),
            )
        ]
    )
    return token_tests.provider_for(transport).read(id_, props)


SPECS = {
    "ImportedImage": Spec(
        ImportedImage,
        _without_provider(import_tests.props()),
        _import_create,
        _import_read,
        upstream=("registryName", "loginServer"),
        identity_change={"target": "microsoft:other"},
    ),
    "StreamingArtifact": Spec(
        StreamingArtifact,
        _without_provider(streaming_tests.PROPS),
        _artifact_create,
        _artifact_read,
        upstream=("loginServer", "digest"),
        identity_change={"digest": "sha256:" + "9" * 64},
    ),
    "RepositoryStreaming": Spec(
        RepositoryStreaming,
        _without_provider(streaming_tests.REPO_PROPS),
        _repository_create,
        _repository_read,
        upstream=("loginServer",),
        identity_change={"repository": "other"},
    ),
    "AcrBuild": Spec(
        AcrBuild,
        {k: v for k, v in _without_provider(build_tests.PROPS).items() if v is not None},
        _build_create,
        _build_read,
        upstream=("loginServer", "dockerfile", "squashSource"),
        identity_change={"target": "largeimage/test:v2"},
        check_sent=_build_sent,
        # A squash build's source, so that no input of the resource is None.
        extra_kwargs={"squash_source": {"repository": "library/alpine", "digest": "sha256:" + "a" * 64}},
    ),
    "ExperimentPool": Spec(
        ExperimentPool,
        _without_provider(pool_tests.props_for("fastart")),
        _pool_create,
        _pool_read,
        upstream=("clusterName", "properties"),
        identity_change={"poolName": "other"},
        check_sent=_pool_sent,
    ),
    "TokenCredentials": Spec(
        TokenCredentials,
        _without_provider(token_tests.props()),
        _token_create,
        _token_read,
        upstream=("resourceGroupName", "registryName", "tokenId"),
        identity_change={"passwordName": "password2"},
    ),
}
NAMES = list(SPECS)


@dataclass
class Declared:
    """What a dynamic Resource hands `pulumi.dynamic.Resource.__init__` (no engine involved)."""

    provider: pulumi.dynamic.ResourceProvider
    name: str
    props: dict[str, Any]

    @property
    def outputs(self) -> set[str]:
        return {k for k, v in self.props.items() if v is None}


def declare(spec: Spec) -> Declared:
    captured: dict[str, Any] = {}

    def capture(self, provider, name, props, opts=None):
        captured.update(provider=provider, name=name, props=dict(props))

    with mock.patch.object(pulumi.dynamic.Resource, "__init__", capture):
        spec.resource("contract", **spec.kwargs())
    return Declared(**captured)


def serialized_provider(spec: Spec) -> str:
    """The `__provider` value, serialized the way `pulumi.dynamic.Resource.__init__` does it."""
    serialized, _contains_secrets = _serialize(True, serialize_provider, declare(spec).provider)
    return serialized


def engine_inputs(spec: Spec, **overrides: Any) -> dict[str, Any]:
    """The inputs plus `__provider`, as the program registers them (before the engine)."""
    return {**spec.inputs, **overrides, PROVIDER_KEY: serialized_provider(spec)}


def declared_outputs(spec: Spec) -> set[str]:
    return declare(spec).outputs | set(inspect.get_annotations(spec.resource))


_CREATED: dict[str, Any] = {}


def created(spec: Spec):
    """create() on engine-shaped inputs (floats, __provider); replayed, computed once per resource."""
    key = spec.resource.__name__
    if key not in _CREATED:
        result, transport = spec.create(host_view(engine_inputs(spec)))
        _CREATED[key] = (result, transport)
    return _CREATED[key]


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
