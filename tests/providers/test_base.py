"""The retry policy's limits (constructed HTTP) and the provider skeleton: declared inputs, diff, update."""

from __future__ import annotations

from azure.core.rest import HttpRequest

from providers.base import PROVIDER_KEY, AzureProvider, AzureTarget, declared_inputs, gone, retry_policy
from tests.conftest import replay_session
from tests.replay import constructed


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
