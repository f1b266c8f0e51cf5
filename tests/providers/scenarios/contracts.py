"""One entry per dynamic resource (inputs, replayed create/read), and what the engine hands its provider.

Shared by tests/providers/test_dynamic_contracts.py and tests/providers/test_provider_host.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import pulumi
import pulumi.dynamic
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime._serialization import _serialize

from providers.acr_build import AcrBuild
from providers.acr_import import ExistingImage, ImportedImage
from providers.acr_streaming import RepositoryStreaming, StreamingArtifact
from providers.acr_token_credentials import TokenCredentials
from providers.aks_agent_pool import ExperimentPool
from providers.base import AzureTarget
from tests.conftest import constructed_auth, recorded_once
from tests.providers.scenarios import acr_build as build_scenarios
from tests.providers.scenarios import acr_import as import_scenarios
from tests.providers.scenarios import acr_streaming as streaming_scenarios
from tests.providers.scenarios import acr_token_credentials as token_scenarios
from tests.providers.scenarios import aks_agent_pool as pool_scenarios
from tests.replay import ReplayTransport, constructed

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


# ImportedImage: the ImportedImage scenarios' recorded import (artifact_streaming#6-8) and tag read (#29-32).
def _import_create(props):
    provider, transport = import_scenarios.provider_for(
        recorded_once(import_scenarios.STREAMING, [6, 7, 8, 29, 30, 31, 32])
    )
    return provider.create(props), transport


def _import_read(id_, props):
    provider, _ = import_scenarios.provider_for(recorded_once(import_scenarios.STREAMING, [29, 30, 31, 32]))
    return provider.read(id_, props)


# ExistingImage: constructed data-plane auth and the tag's digest (the ExistingImage scenarios).
def _existing_create(props):
    provider, transport = import_scenarios.existing_provider_for(import_scenarios.existing_tag_read(props))
    return provider.create(props), transport


def _existing_read(id_, props):
    provider, _ = import_scenarios.existing_provider_for(import_scenarios.existing_tag_read(props))
    return provider.read(id_, props)


# StreamingArtifact: the StreamingArtifact scenarios' conversion (auth, no referrer, POST, Running, Succeeded).
def _artifact_create(props):
    provider, transport = streaming_scenarios.provider_for(
        [
            *streaming_scenarios.rec(*streaming_scenarios.PULL_AUTH, 40, 46, 23, 47),
            streaming_scenarios.operation("Running", "40%"),
            streaming_scenarios.operation("Succeeded"),
            streaming_scenarios.referrers(streaming_scenarios.ARTIFACT),
        ]
    )
    return provider.create(props), transport


def _artifact_read(id_, props):
    provider, _ = streaming_scenarios.provider_for(
        [
            *streaming_scenarios.rec(*streaming_scenarios.PULL_AUTH),
            streaming_scenarios.referrers(streaming_scenarios.ARTIFACT),
        ]
    )
    return provider.read(id_, props)


# RepositoryStreaming: recorded auth + POST _streaming (#21-24); read as in the delete test (#11, #14, #15).
def _repository_create(props):
    provider, transport = streaming_scenarios.repo_provider_for(streaming_scenarios.rec(21, 22, 23, 24))
    return provider.create(props), transport


def _repository_read(id_, props):
    provider, _ = streaming_scenarios.repo_provider_for(
        [
            *streaming_scenarios.rec(11, 14, 15),
            constructed("GET", streaming_scenarios.REPO_URL, 200, {"convertPushedImages": True}),
        ]
    )
    return provider.read(id_, props)


# AcrBuild: test_acr_build.py's constructed upload, scheduleRun and run polled to Succeeded.
def _build_create(props):
    transport = ReplayTransport(
        [
            *build_scenarios.upload(),
            constructed("POST", f"{build_scenarios.ARM}/scheduleRun", 200, build_scenarios.run("Queued")),
            constructed(
                "GET",
                f"{build_scenarios.ARM}/runs/cb1",
                200,
                build_scenarios.run("Succeeded", **build_scenarios.pushed()),
            ),
        ]
    )
    return build_scenarios.provider_for(transport).create(props), transport


# Read: data-plane auth (constructed: no recording has streamabx7k2q9) and the tag still at the pushed digest.
def _build_read(id_, props):
    login = props["loginServer"]
    transport = ReplayTransport(
        [*constructed_auth(login), build_scenarios.tag_answer(login, props["target"], build_scenarios.DIGEST)]
    )
    result = build_scenarios.provider_for(transport).read(id_, props)
    assert transport.unused() == []
    return result


def _build_sent(transport: ReplayTransport) -> None:
    (schedule,) = transport.requests_to("/scheduleRun")
    # timeoutMinutes arrived as 60.0; DockerBuildRequest.timeout is an int32 of seconds.
    assert schedule.body["timeout"] == 3600 and type(schedule.body["timeout"]) is int


# ExperimentPool: test_aks_agent_pool.py's PUT -> operation -> GET sequence for `fastart`.
def _pool_create(props):
    transport = ReplayTransport(pool_scenarios.put_sequence(props, "op-create"))
    return pool_scenarios.provider_for(transport).create(props), transport


def _pool_read(id_, props):
    live = pool_scenarios.arm_pool(props, orchestratorVersion="1.33.2")
    transport = ReplayTransport([constructed("GET", pool_scenarios.pool_url(props["poolName"]), 200, live)])
    return pool_scenarios.provider_for(transport).read(id_, props)


def _pool_sent(transport: ReplayTransport) -> None:
    (put,) = [r for r in transport.sent if r.method == "PUT"]
    # count and osDiskSizeGB arrived as 1.0 and 128.0; ARM's int32 fields get 1 and 128.
    assert type(put.body["properties"]["count"]) is int
    assert type(put.body["properties"]["osDiskSizeGB"]) is int


# TokenCredentials: test_acr_token_credentials.py's generateCredentials (202 + location) and token GET.
def _token_create(props):
    transport = ReplayTransport(token_scenarios.generate_sequence(token_scenarios.LOCATION))
    return token_scenarios.provider_for(transport).create(props), transport


def _token_read(id_, props):
    transport = ReplayTransport(
        [
            constructed(
                "GET",
                token_scenarios.TOKEN,
                200,
                token_scenarios.token_body([{"name": "password1", "creationTime": token_scenarios.CREATED}]),
            )
        ]
    )
    return token_scenarios.provider_for(transport).read(id_, props)


SPECS = {
    "ImportedImage": Spec(
        ImportedImage,
        _without_provider(import_scenarios.props()),
        _import_create,
        _import_read,
        upstream=("registryName", "loginServer"),
        identity_change={"target": "microsoft:other"},
    ),
    "ExistingImage": Spec(
        ExistingImage,
        _without_provider(import_scenarios.existing_props()),
        _existing_create,
        _existing_read,
        upstream=("loginServer",),
        identity_change={"target": "myapp:v2"},
    ),
    "StreamingArtifact": Spec(
        StreamingArtifact,
        _without_provider(streaming_scenarios.PROPS),
        _artifact_create,
        _artifact_read,
        # The digest updates in place (test_acr_streaming.py): only the registry and repository replace.
        upstream=("loginServer",),
        identity_change={"repository": "other"},
    ),
    "RepositoryStreaming": Spec(
        RepositoryStreaming,
        _without_provider(streaming_scenarios.REPO_PROPS),
        _repository_create,
        _repository_read,
        upstream=("loginServer",),
        identity_change={"repository": "other"},
    ),
    "AcrBuild": Spec(
        AcrBuild,
        {k: v for k, v in _without_provider(build_scenarios.PROPS).items() if v is not None},
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
        _without_provider(pool_scenarios.props_for("fastart")),
        _pool_create,
        _pool_read,
        upstream=("clusterName", "properties"),
        identity_change={"poolName": "other"},
        check_sent=_pool_sent,
    ),
    "TokenCredentials": Spec(
        TokenCredentials,
        _without_provider(token_scenarios.props()),
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


_CREATED: dict[str, Any] = {}


def created(spec: Spec):
    """create() on engine-shaped inputs (floats, __provider); replayed, computed once per resource."""
    key = spec.resource.__name__
    if key not in _CREATED:
        result, transport = spec.create(host_view(engine_inputs(spec)))
        _CREATED[key] = (result, transport)
    return _CREATED[key]
