"""Error text, answers that do not parse, and the retry policy's limits (constructed HTTP)."""

from __future__ import annotations

import pytest
from azure.core.rest import HttpRequest

from providers.base import (
    PROVIDER_KEY,
    AzureProvider,
    AzureTarget,
    UnparsableAnswerError,
    declared_inputs,
    gone,
    json_answer,
    required,
    retry_policy,
    scrub,
)
from tests.conftest import replay_session
from tests.replay import constructed

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyQGV4YW1wbGUuY29tIn0.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    "text, secret",
    [
        (f"Authorization: Bearer {JWT}", JWT),
        ('{"access_token": "opaque-access-123", "x": 1}', "opaque-access-123"),
        ("grant_type=refresh_token&refresh_token=opaque-refresh-456&scope=repo", "opaque-refresh-456"),
        ('{"password": "hunter2hunter2"}', "hunter2hunter2"),
        ("https://acct.blob.core.windows.net/c/log.txt?sv=2019&sig=SIGNATURE-THAT-MUST-NOT-LEAK", "SIGNATURE"),
        (f"echoed token {JWT} back", JWT),
    ],
)
def test_scrub_masks_credentials(text, secret):
    cleaned = scrub(text)
    assert secret not in cleaned and "REDACTED" in cleaned


def test_scrub_truncates_and_says_so():
    cleaned = scrub("x" * 2000)
    assert cleaned.startswith("x" * 500) and cleaned.endswith("[1500 more characters]")


def _response(status, body, content_type="application/json"):
    session, transport = replay_session(
        [constructed("GET", "https://r.azurecr.io/v2/x", status, body, {"content-type": content_type})]
    )
    from azure.core import PipelineClient

    client = PipelineClient("https://r.azurecr.io", transport=transport)
    return client.send_request(HttpRequest("GET", "https://r.azurecr.io/v2/x"))


def test_an_answer_that_is_not_json_names_the_operation_and_where():
    response = _response(200, "<html>proxy says Authorization: Bearer abc.def.ghi</html>", "text/html")
    with pytest.raises(UnparsableAnswerError) as raised:
        json_answer(response, "reading tag repo:v1", "r.azurecr.io")
    message = str(raised.value)
    assert message.startswith("reading tag repo:v1 on r.azurecr.io: the answer (HTTP 200) is not JSON")
    assert "abc.def.ghi" not in message


def test_a_missing_key_names_its_path():
    with pytest.raises(
        UnparsableAnswerError, match=r"reading tag repo:v1 on r.azurecr.io: the answer has no tag.digest"
    ):
        required({"tag": {"name": "v1"}}, ("tag", "digest"), "reading tag repo:v1", "r.azurecr.io")
    assert required({"tag": {"digest": "sha256:1"}}, ("tag", "digest"), "w", "r") == "sha256:1"


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
