"""The retry policy's limits (constructed HTTP) and the provider skeleton: declared inputs, diff, update."""

from __future__ import annotations

import math

import pytest
from azure.core.rest import HttpRequest

from providers.base import (
    PROVIDER_KEY,
    AzureProvider,
    AzureTarget,
    ForeignHostError,
    declared_inputs,
    gone,
    retry_policy,
)
from tests.conftest import replay_session
from tests.replay import SUBSCRIPTION, constructed


def test_retry_after_is_capped_and_409_is_left_to_the_provider():
    policy = retry_policy()
    session, transport = replay_session(
        [
            constructed("GET", "https://r.azurecr.io/v2/x", 503, {"errors": []}, {"Retry-After": "86400"}),
            constructed("GET", "https://r.azurecr.io/v2/x", 200, {"ok": True}),
            constructed("GET", "https://r.azurecr.io/v2/y", 409, {"errors": []}, {"Retry-After": "30"}),
        ]
    )
    from azure.core import PipelineClient

    client = PipelineClient("https://r.azurecr.io", transport=transport, policies=[policy])
    assert client.send_request(HttpRequest("GET", "https://r.azurecr.io/v2/x")).status_code == 200
    assert transport.sleeps == [60]  # a day asked, the policy's 60 s maximum slept
    assert client.send_request(HttpRequest("GET", "https://r.azurecr.io/v2/y")).status_code == 409
    assert transport.sleeps == [60]  # the conflict came straight back, unretried


def test_declared_inputs_carry_the_target_the_limit_and_a_placeholder_per_output():
    declared = declared_inputs(AzureTarget("sub", "tenant"), 30, {"registryName": "r"}, ("digest",))
    assert declared == {
        "subscriptionId": "sub",
        "tenantId": "tenant",
        "registryName": "r",
        "timeoutMinutes": 30,
        "digest": None,
    }


class _Skeleton(AzureProvider):
    REPLACE_ON = ("registryName",)
    OUTPUTS = ("digest",)


def test_the_skeleton_diffs_by_replace_on_and_keeps_computed_outputs_on_update():
    olds = {"subscriptionId": "s", "tenantId": "t", "registryName": "r", "timeoutMinutes": 30.0, "digest": "sha256:1"}
    news = {**olds, "tenantId": "t2", "timeoutMinutes": 60.0, PROVIDER_KEY: "pickled"}
    del news["digest"]
    tenant = _Skeleton().diff("id", olds, news)
    assert tenant.changes is True and tenant.replaces == []
    assert _Skeleton().diff("id", olds, {**news, "registryName": "other"}).replaces == ["registryName"]
    assert _Skeleton().diff("id", olds, {**news, "tenantId": "t"}).changes is False
    updated = _Skeleton().update("id", olds, news).outs
    assert updated == {**olds, "tenantId": "t2", "timeoutMinutes": 60.0}
    assert gone().id is None and gone().outs == {}


@pytest.mark.parametrize("value", ["soon, maybe", "-30", "NaN", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_a_retry_after_that_is_not_seconds_falls_back_to_the_backoff(value):
    """Constructed: 503 with a Retry-After azure-core itself would raise on (`Invalid HTTP date`), sleep
    a negative time on, or sleep NaN on; the policy backs off as without one and the retry succeeds."""
    session, transport = replay_session(
        [
            constructed("GET", "https://r.azurecr.io/v2/x", 503, {"errors": []}, {"Retry-After": value}),
            constructed("GET", "https://r.azurecr.io/v2/x", 200, {"ok": True}),
        ]
    )
    from azure.core import PipelineClient

    client = PipelineClient("https://r.azurecr.io", transport=transport, policies=[retry_policy()])
    assert client.send_request(HttpRequest("GET", "https://r.azurecr.io/v2/x")).status_code == 200
    assert all(math.isfinite(s) and 0 <= s <= 60 for s in transport.sleeps)


def test_the_arm_token_goes_to_the_arm_endpoint_only():
    """Constructed: an import whose 202 names a `location` on another host. The poll is refused before
    anything is sent there, and the error names the import and the host, not the token."""
    from azure.mgmt.containerregistry import ContainerRegistryManagementClient
    from azure.mgmt.containerregistry.models import ImportImageParameters, ImportSource

    arm = f"https://management.azure.com/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers"
    url = f"{arm}/Microsoft.ContainerRegistry/registries/r/importImage?api-version=2025-11-01"
    session, transport = replay_session(
        [constructed("POST", url, 202, None, {"location": "https://collector.example/operationResults/1"})]
    )
    client = session.arm_client(ContainerRegistryManagementClient)
    parameters = ImportImageParameters(source=ImportSource(source_image="alpine:3.20"), target_tags=["alpine:3.20"])
    with pytest.raises(ForeignHostError, match=r"collector\.example/operationResults/1 \(only management\.azure\.com"):
        client.registries.begin_import_image("rg", "r", parameters).result()
    assert [r.url.split("/")[2] for r in transport.sent] == ["management.azure.com"]


def test_a_retry_after_in_milliseconds_is_still_honoured():
    session, transport = replay_session(
        [
            constructed("GET", "https://r.azurecr.io/v2/x", 503, {"errors": []}, {"retry-after-ms": "1500"}),
            constructed("GET", "https://r.azurecr.io/v2/x", 200, {"ok": True}),
        ]
    )
    from azure.core import PipelineClient

    client = PipelineClient("https://r.azurecr.io", transport=transport, policies=[retry_policy()])
    assert client.send_request(HttpRequest("GET", "https://r.azurecr.io/v2/x")).status_code == 200
    assert transport.sleeps == [1.5]
