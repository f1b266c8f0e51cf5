"""TokenCredentials provider replayed against ARM HTTP sequences, and the pull secret it feeds.

No recording in tests/fixtures/azure-http covers registry tokens, so the generateCredentials, token
GET and token PATCH interactions are constructed. The POST action follows the recorded registry POST
action in test_acr_image_import.yaml#6-7 (POST answered 202 with `location`, the location polled to
200); `test_constructed_generate_follows_the_recorded_post_action_shape` checks that correspondence.
The bodies (username, password1/password2 with `value` only on generation, creationTime) follow the
ACR REST reference of `Registries - Generate Credentials` and `Tokens - Get/Update`.
"""

from __future__ import annotations

import base64
import json

import pytest

from providers.acr_token_credentials import TokenCredentialsProvider, dockerconfigjson
from providers.errors import AzureOperationError
from tests.providers.scenarios.acr_token_credentials import (
    CREATED,
    GENERATE,
    LOCATION,
    TOKEN,
    TOKEN_ID,
    generate_sequence,
    props,
    provider_for,
    token_body,
)
from tests.replay import ReplayTransport, constructed, recorded


def test_constructed_generate_follows_the_recorded_post_action_shape():
    rec = recorded("test_acr_image_import.yaml", [6, 7])
    ours = generate_sequence(LOCATION)
    assert [(i.method, i.status) for i in rec] == [(i.method, i.status) for i in ours]
    assert rec[1].uri == rec[0].response_headers["location"]
    assert ours[1].uri == ours[0].response_headers["location"]


def test_create_generates_the_password_and_returns_it_as_output():
    transport = ReplayTransport(generate_sequence(LOCATION))
    result = provider_for(transport).create(props())
    post = transport.sent[0]
    assert post.method == "POST" and post.body == {"tokenId": TOKEN_ID, "name": "password1"}
    assert result.outs["username"] == "aks-pull-streamab"
    assert result.outs["password"] == "s3cr3t-value"
    assert result.outs["passwordCreationTime"] == CREATED
    assert result.id == f"{TOKEN_ID}/credentials/password1"
    assert "__provider" not in result.outs and transport.unused() == []


def test_create_answered_directly_and_without_a_value_is_an_error():
    transport = ReplayTransport(
        [
            constructed(
                "POST",
                GENERATE,
                200,
                {"username": "aks-pull-streamab", "passwords": [{"name": "password1", "creationTime": CREATED}]},
            )
        ]
    )
    with pytest.raises(AzureOperationError, match="without a value for password1"):
        provider_for(transport).create(props())


def test_create_reports_azures_refusal():
    transport = ReplayTransport(
        [
            constructed(
                "POST",
                GENERATE,
                403,
                {
                    "error": {
                        "code": "AuthorizationFailed",
                        "message": "The client 'user@example.com' does not have authorization to perform action "
                        "'Microsoft.ContainerRegistry/registries/generateCredentials/action'.",
                    }
                },
            )
        ]
    )
    with pytest.raises(AzureOperationError) as raised:
        provider_for(transport).create(props())
    assert "AuthorizationFailed" in str(raised.value) and "generateCredentials/action" in str(raised.value)


def test_read_keeps_a_password_that_is_still_ours_and_drops_a_regenerated_or_deleted_one():
    state = dict(props(), username="aks-pull-streamab", password="s3cr3t-value", passwordCreationTime=CREATED)
    ours = [{"name": "password1", "creationTime": CREATED}]
    still = ReplayTransport([constructed("GET", TOKEN, 200, token_body(ours))])
    result = provider_for(still).read("id", state)
    assert result.id == "id" and result.outs["password"] == "s3cr3t-value"

    regenerated = ReplayTransport(
        [
            constructed(
                "GET", TOKEN, 200, token_body([{"name": "password1", "creationTime": "2026-08-03T09:00:00+00:00"}])
            )
        ]
    )
    assert provider_for(regenerated).read("id", state).id is None

    gone = ReplayTransport(
        [constructed("GET", TOKEN, 404, {"error": {"code": "ResourceNotFound", "message": "token not found"}})]
    )
    assert provider_for(gone).read("id", state).id is None


def test_delete_revokes_only_our_password():
    other = {"name": "password2", "creationTime": "2026-07-01T00:00:00+00:00"}
    state = dict(props(), passwordCreationTime=CREATED)
    transport = ReplayTransport(
        [
            constructed("GET", TOKEN, 200, token_body([{"name": "password1", "creationTime": CREATED}, other])),
            constructed("PATCH", TOKEN, 200, token_body([other])),
        ]
    )
    provider_for(transport).delete("id", state)
    patch = transport.sent[1]
    assert patch.method == "PATCH"
    assert patch.body == {"properties": {"credentials": {"passwords": [other]}}}
    assert transport.unused() == []


def test_delete_leaves_a_regenerated_password_and_a_missing_token_alone():
    state = dict(props(), passwordCreationTime=CREATED)
    regenerated = ReplayTransport(
        [
            constructed(
                "GET", TOKEN, 200, token_body([{"name": "password1", "creationTime": "2026-08-03T09:00:00+00:00"}])
            )
        ]
    )
    provider_for(regenerated).delete("id", state)
    assert [r.method for r in regenerated.sent] == ["GET"]

    gone = ReplayTransport([constructed("GET", TOKEN, 404, {"error": {"code": "ResourceNotFound", "message": "x"}})])
    provider_for(gone).delete("id", state)
    assert [r.method for r in gone.sent] == ["GET"]


def test_diff_replaces_on_any_input_but_the_limit_and_the_tenant():
    olds = dict(props(), username="aks-pull-streamab", password="s3cr3t-value", passwordCreationTime=CREATED)
    provider = TokenCredentialsProvider()
    assert provider.diff("id", olds, props(timeoutMinutes=90.0)).changes is False
    rotated = provider.diff("id", olds, props(passwordName="password2"))
    assert rotated.replaces == ["passwordName"] and rotated.delete_before_replace is True
    assert provider.diff("id", olds, props(tokenId=TOKEN_ID + "2")).replaces == ["tokenId"]
    tenant = provider.diff("id", olds, props(tenantId="11111111-2222-3333-4444-555555555555"))
    assert tenant.changes is True and tenant.replaces == []
    kept = provider.update("id", olds, props(tenantId="11111111-2222-3333-4444-555555555555")).outs
    assert kept["password"] == "s3cr3t-value" and kept["tenantId"] == "11111111-2222-3333-4444-555555555555"


def test_check_refuses_an_unknown_password_name():
    result = TokenCredentialsProvider().check({}, props(passwordName="password3"))
    assert [f.property for f in result.failures] == ["passwordName"]
    assert TokenCredentialsProvider().check({}, props()).failures == []


def test_dockerconfigjson_is_what_kubelet_reads():
    text = dockerconfigjson("streamabx7k2q9.azurecr.io", "aks-pull-streamab", "s3cr3t-value")
    entry = json.loads(text)["auths"]["streamabx7k2q9.azurecr.io"]
    assert entry["username"] == "aks-pull-streamab" and entry["password"] == "s3cr3t-value"
    assert base64.b64decode(entry["auth"]).decode() == "aks-pull-streamab:s3cr3t-value"
