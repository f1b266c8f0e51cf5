"""`AcrDataPlaneClient` replayed against the Azure CLI's recordings (tests/fixtures/azure-http/).

Each test names the recorded interactions it replays (`file#index`) and the ones it constructs. The
replay answers by method and URL, so a request the client should not make fails the test.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from azure.core.exceptions import ServiceResponseError

from providers.acr_dataplane import STREAMING_ARTIFACT_TYPE, AcrDataPlaneClient, AcrDataPlaneError
from providers.base import ARM_SCOPE, RETRY_SETTINGS
from providers.errors import UnparsableAnswerError
from tests.conftest import constructed_auth, recorded_once, replay_session
from tests.replay import TENANT, constructed

STREAMING = "test_acr_artifact_streaming.yaml"
LOGIN = "clireg000002.azurecr.io"
BASE = f"https://{LOGIN}"
DIGEST = "sha256:622731d3e3a16b11a1f318b1c5018d0c44996b4c096b864fe2eac5b8beab535a"
OPERATION = "7dfcc117-d980-4c19-8817-3171e14186ca"


def client_for(interactions):
    session, transport = replay_session(interactions)
    return AcrDataPlaneClient(LOGIN, session), transport, session


def tag_body(repository: str, tag: str, digest: str) -> dict:
    return {"registry": LOGIN, "imageName": repository, "tag": {"name": tag, "digest": digest}}


def test_auth_flow_challenge_exchange_token():
    """Recorded: artifact_streaming#11 (GET /v2/ 401), #14 (/oauth2/exchange), #15 (/oauth2/token, pull), #16."""
    client, transport, session = client_for(recorded_once(STREAMING, [11, 14, 15, 16]))
    assert client.get_repository_streaming("microsoft") == {"convertPushedImages": False}

    challenge, exchange, token, call = transport.sent
    assert [r.answered_by for r in transport.sent] == [f"{STREAMING}#{i}" for i in (11, 14, 15, 16)]
    assert "Authorization" not in challenge.headers
    assert exchange.body == {
        "grant_type": "access_token",
        "service": LOGIN,
        "tenant": TENANT,
        "access_token": "REDACTED",
    }
    assert token.body == {
        "grant_type": "refresh_token",
        "service": LOGIN,
        "scope": "repository:microsoft:pull",
        "refresh_token": "REDACTED",
    }
    assert call.headers["Authorization"] == "Bearer REDACTED"
    # The AAD token exchanged is an ARM token of the stack's tenant, never a second default.
    assert session.credential.requests == [((ARM_SCOPE,), {"tenant_id": TENANT})]


def test_tokens_are_cached_per_scope():
    """Recorded: #11, #14, #15 (pull), #16; #31 (/oauth2/token, metadata_read), #32 (tag).
    Constructed: a second GET /acr/v1/microsoft/_streaming."""
    client, transport, _ = client_for(
        [
            *recorded_once(STREAMING, [11, 14, 15, 16]),
            constructed("GET", f"{BASE}/acr/v1/microsoft/_streaming", 200, {"convertPushedImages": True}),
            *recorded_once(STREAMING, [31, 32]),
        ]
    )
    client.get_repository_streaming("microsoft")
    assert client.get_repository_streaming("microsoft") == {"convertPushedImages": True}
    assert client.get_tag_digest("microsoft", "azure-cli") == DIGEST
    token_requests = transport.requests_to("/oauth2/token")
    assert [r.body["scope"] for r in token_requests] == [
        "repository:microsoft:pull",
        "repository:microsoft:metadata_read",
    ]
    # One challenge and one exchange for the client's life.
    assert len(transport.requests_to("/v2/")) == 1 and len(transport.requests_to("/oauth2/exchange")) == 1
    assert transport.unused() == []


def test_a_401_on_a_call_starts_the_token_flow_over_once():
    """Recorded: #29-#32 (challenge, exchange, token metadata_read, tag). Constructed: the tag read first
    answered 401 (revoked token), then a fresh exchange and token."""
    client, transport, _ = client_for(
        [
            *recorded_once(STREAMING, [29, 30, 31]),
            constructed(
                "GET",
                f"{BASE}/acr/v1/microsoft/_tags/azure-cli",
                401,
                {"errors": [{"code": "UNAUTHORIZED", "message": "token revoked"}]},
            ),
            constructed("POST", f"{BASE}/oauth2/exchange", 200, {"refresh_token": "REDACTED"}),
            constructed("POST", f"{BASE}/oauth2/token", 200, {"access_token": "REDACTED"}),
            *recorded_once(STREAMING, [32]),
        ]
    )
    assert client.get_tag_digest("microsoft", "azure-cli") == DIGEST
    assert transport.unused() == []


def test_exchange_refused_says_which_role_is_missing():
    """Recorded: #11 (challenge). Constructed: /oauth2/exchange 401."""
    client, _, _ = client_for(
        [
            *recorded_once(STREAMING, [11]),
            constructed(
                "POST", f"{BASE}/oauth2/exchange", 401, {"errors": [{"code": "UNAUTHORIZED", "message": "nope"}]}
            ),
        ]
    )
    with pytest.raises(AcrDataPlaneError, match=r"AAD token exchange.*UNAUTHORIZED: nope.*AcrPush"):
        client.get_repository_streaming("microsoft")


def test_tag_digest_and_missing_tag():
    """Recorded: #29-#32 (tag microsoft:azure-cli). Constructed: 404 TAG_UNKNOWN for another tag."""
    client, transport, _ = client_for(
        [
            *recorded_once(STREAMING, [29, 30, 31, 32]),
            constructed(
                "GET",
                f"{BASE}/acr/v1/microsoft/_tags/gone",
                404,
                {"errors": [{"code": "TAG_UNKNOWN", "message": "the specified tag does not exist"}]},
            ),
        ]
    )
    assert client.get_tag_digest("microsoft", "azure-cli") == DIGEST
    assert client.get_tag_digest("microsoft", "gone") is None
    assert transport.unused() == []


def test_delete_tag_and_manifest():
    """Constructed: auth, DELETE _tags 202, DELETE _tags 404, DELETE manifest 202 (no recording deletes)."""
    client, transport, _ = client_for(
        [
            *constructed_auth(LOGIN),
            constructed("DELETE", f"{BASE}/acr/v1/microsoft/_tags/azure-cli", 202),
            constructed(
                "DELETE",
                f"{BASE}/acr/v1/microsoft/_tags/azure-cli",
                404,
                {"errors": [{"code": "TAG_UNKNOWN", "message": "gone"}]},
            ),
            constructed("DELETE", f"{BASE}/v2/microsoft/manifests/{DIGEST}", 202),
        ]
    )
    assert client.delete_tag("microsoft", "azure-cli") is True
    assert client.delete_tag("microsoft", "azure-cli") is False
    assert client.delete_manifest("microsoft", DIGEST) is True
    assert transport.requests_to("/oauth2/token")[0].body["scope"] == "repository:microsoft:delete"


def test_streaming_referrers_empty_and_existing():
    """Recorded: #37-#40 (auth, empty referrers index, OCI-Filters-Applied). Constructed: a referrers list
    with a streaming artifact, and one from a registry that ignored the filter (a signature too)."""
    artifact = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:" + "a" * 64,
        "size": 1200,
        "artifactType": STREAMING_ARTIFACT_TYPE,
    }
    signature = {**artifact, "digest": "sha256:" + "b" * 64, "artifactType": "application/vnd.cncf.notary.signature"}
    url = f"{BASE}/v2/microsoft/referrers/{DIGEST}?artifactType=application%2Fvnd.azure.artifact.streaming.v1"
    client, transport, _ = client_for(
        [
            *recorded_once(STREAMING, [37, 38, 39, 40]),
            constructed(
                "GET",
                url,
                200,
                {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [artifact]},
                {"oci-filters-applied": "artifactType"},
            ),
            constructed("GET", url, 200, {"schemaVersion": 2, "manifests": [signature, artifact]}),
        ]
    )
    assert client.list_streaming_referrers("microsoft", DIGEST) == []
    assert client.list_streaming_referrers("microsoft", DIGEST) == [artifact]
    assert client.list_streaming_referrers("microsoft", DIGEST) == [artifact]
    assert transport.unused() == []


def test_streaming_referrers_follow_link_pagination_on_the_registry_only():
    """Constructed: a referrers list in two pages, the first naming the second in `Link: <...>; rel="next"`
    (OCI distribution spec; the shape `az acr repository list` follows); then a next page on another host."""
    artifacts = [{"digest": f"sha256:{c * 64}", "artifactType": STREAMING_ARTIFACT_TYPE, "size": 1} for c in ("a", "b")]
    first = f"{BASE}/v2/microsoft/referrers/{DIGEST}?artifactType=application%2Fvnd.azure.artifact.streaming.v1"
    second = f"/v2/microsoft/referrers/{DIGEST}?artifactType=application%2Fvnd.azure.artifact.streaming.v1&last=a&n=1"
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json"}
    client, transport, _ = client_for(
        [
            *constructed_auth(LOGIN),
            constructed("GET", first, 200, {**index, "manifests": [artifacts[0]]}, {"Link": f'<{second}>; rel="next"'}),
            constructed("GET", f"{BASE}{second}", 200, {**index, "manifests": [artifacts[1]]}),
            constructed(
                "GET", first, 200, {**index, "manifests": []}, {"Link": f'<https://evil.example{second}>; rel="next"'}
            ),
        ]
    )
    assert client.list_streaming_referrers("microsoft", DIGEST) == artifacts
    with pytest.raises(AcrDataPlaneError, match="the next page is on another host"):
        client.list_streaming_referrers("microsoft", DIGEST)
    assert transport.unused() == [] and not transport.requests_to("evil.example")


def test_conversion_unknown_start_poll_cancel():
    """Recorded: #44 (challenge), #53 (exchange), #62 (token, pull), #46 (GET _streaming/{digest} 404
    OPERATION_UNKNOWN), #23 (token, pull,push), #47 (POST 202 NotStarted), #63 (GET _streaming/{digest}
    Running), #71 (POST _operations/{id}:cancel -> Canceled), #95 (GET _operations/{id} -> Canceled)."""
    client, transport, _ = client_for(recorded_once(STREAMING, [44, 53, 62, 46, 23, 47, 63, 71, 95]))
    assert client.get_conversion("microsoft", DIGEST) is None
    started = client.start_conversion("microsoft", DIGEST)
    assert started == {"id": OPERATION, "status": "NotStarted"}
    post = transport.requests_to(f"/_streaming/{DIGEST}")[1]
    assert post.body == {"conversionFormat": "overlaybd", "conversionVersion": "v1"}
    assert client.get_conversion("microsoft", DIGEST)["status"] == "Running"
    assert client.cancel_operation("microsoft", OPERATION)["status"] == "Canceled"
    operation = client.get_operation("microsoft", OPERATION)
    assert operation["status"] == "Canceled" and operation["details"].startswith("Conversion started")
    scopes = [r.body["scope"] for r in transport.requests_to("/oauth2/token")]
    assert scopes == ["repository:microsoft:pull", "repository:microsoft:pull,push"]
    assert transport.unused() == []


def test_repository_auto_conversion_get_and_set():
    """Recorded: #11, #14, #15, #16 (GET _streaming: false); #23 (token pull,push), #24 (POST _streaming 202)."""
    client, transport, _ = client_for(recorded_once(STREAMING, [11, 14, 15, 16, 23, 24]))
    assert client.get_repository_streaming("microsoft") == {"convertPushedImages": False}
    result = client.set_repository_streaming("microsoft", True)
    assert result["convertPushedImages"] is True and result["status"] == "Succeeded"
    assert transport.sent[-1].body == {
        "convertPushedImages": True,
        "conversionFormat": "overlaybd",
        "conversionVersion": "v1",
    }
    assert transport.unused() == []


def _blob(payload: dict) -> tuple[bytes, str]:
    raw = json.dumps(payload).encode()
    return raw, "sha256:" + hashlib.sha256(raw).hexdigest()


def test_image_config_from_a_multi_platform_index_follows_the_blob_redirect():
    """Constructed (no recording reads manifests): an OCI index with arm64 and amd64, the amd64 manifest,
    the config blob answered 307 to storage, and the storage download."""
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/bin"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "1" * 64]},
    }
    config_raw, config_digest = _blob(config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": len(config_raw),
        },
        "layers": [],
    }
    manifest_raw, manifest_digest = _blob(manifest)
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"digest": "sha256:" + "9" * 64, "platform": {"os": "linux", "architecture": "arm64"}},
            {"digest": manifest_digest, "platform": {"os": "linux", "architecture": "amd64"}},
        ],
    }
    storage = "https://weumanaged1.blob.core.windows.net/blob?sig=REDACTED"
    client, transport, _ = client_for(
        [
            *constructed_auth(LOGIN),
            constructed(
                "GET",
                f"{BASE}/v2/redis/manifests/6.0.8",
                200,
                index,
                {
                    "content-type": "application/vnd.oci.image.index.v1+json",
                    "docker-content-digest": "sha256:" + "8" * 64,
                },
            ),
            constructed(
                "GET",
                f"{BASE}/v2/redis/manifests/{manifest_digest}",
                200,
                manifest_raw.decode(),
                {"content-type": "application/vnd.oci.image.manifest.v1+json"},
            ),
            constructed("GET", f"{BASE}/v2/redis/blobs/{config_digest}", 307, None, {"location": storage}),
            constructed("GET", storage, 200, config_raw.decode()),
        ]
    )
    assert client.get_image_config("redis", "6.0.8") == config
    manifest_request = transport.requests_to("/manifests/6.0.8")[0]
    assert "application/vnd.oci.image.index.v1+json" in manifest_request.headers["Accept"]
    assert "application/vnd.docker.distribution.manifest.v2+json" in manifest_request.headers["Accept"]
    # The storage download must not carry the registry's token.
    assert "Authorization" not in transport.requests_to("blob.core.windows.net")[0].headers
    assert transport.unused() == []


def test_get_manifest_digest_from_header_or_body():
    """Constructed: a Docker v2 manifest with and without Docker-Content-Digest."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"digest": "sha256:" + "c" * 64},
        "layers": [],
    }
    raw, digest = _blob(manifest)
    client, _, _ = client_for(
        [
            *constructed_auth(LOGIN),
            constructed(
                "GET",
                f"{BASE}/v2/redis/manifests/a",
                200,
                raw.decode(),
                {"docker-content-digest": "sha256:" + "d" * 64},
            ),
            constructed("GET", f"{BASE}/v2/redis/manifests/b", 200, raw.decode()),
        ]
    )
    assert client.get_manifest("redis", "a") == (manifest["mediaType"], manifest, "sha256:" + "d" * 64)
    assert client.get_manifest("redis", "b")[2] == digest


def test_image_config_without_linux_amd64_names_the_platforms():
    """Constructed: an index with arm64 only."""
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"digest": "sha256:" + "9" * 64, "platform": {"os": "linux", "architecture": "arm64"}}],
    }
    client, _, _ = client_for(
        [*constructed_auth(LOGIN), constructed("GET", f"{BASE}/v2/redis/manifests/arm", 200, index)]
    )
    with pytest.raises(AcrDataPlaneError, match="no linux/amd64 image.*linux/arm64"):
        client.get_image_config("redis", "arm")


# -- Injected faults (constructed in front of recorded interactions) --------------------------------
TAG_URL = f"{BASE}/acr/v1/microsoft/_tags/azure-cli"


def test_429_with_retry_after_is_waited_out_then_succeeds():
    """Recorded: #29-#32. Constructed: the tag read first answered 429 Retry-After: 7."""
    client, transport, _ = client_for(
        [
            *recorded_once(STREAMING, [29, 30, 31]),
            constructed(
                "GET",
                TAG_URL,
                429,
                {"errors": [{"code": "TOOMANYREQUESTS", "message": "slow down"}]},
                {"Retry-After": "7"},
            ),
            *recorded_once(STREAMING, [32]),
        ]
    )
    assert client.get_tag_digest("microsoft", "azure-cli") == DIGEST
    assert transport.sleeps == [7]
    assert transport.unused() == []


def test_503_then_success():
    """Recorded: #29-#32. Constructed: 503 before #32 (first retry has no backoff in azure-core)."""
    client, transport, _ = client_for(
        [
            *recorded_once(STREAMING, [29, 30, 31]),
            constructed("GET", TAG_URL, 503, {"errors": [{"code": "UNAVAILABLE", "message": "busy"}]}),
            *recorded_once(STREAMING, [32]),
        ]
    )
    assert client.get_tag_digest("microsoft", "azure-cli") == DIGEST
    assert transport.unused() == []


def test_dropped_connection_then_success():
    """Recorded: #29-#32. Constructed: the connection drops (ServiceResponseError) before #32."""
    client, transport, _ = client_for(
        [
            *recorded_once(STREAMING, [29, 30, 31]),
            constructed("GET", TAG_URL, error=ServiceResponseError("Connection reset by peer")),
            *recorded_once(STREAMING, [32]),
        ]
    )
    assert client.get_tag_digest("microsoft", "azure-cli") == DIGEST
    assert transport.unused() == []


def test_429_on_the_token_endpoint_is_retried_too():
    """Recorded: #11, #14, #15, #16. Constructed: /oauth2/token 429 Retry-After: 2 first."""
    client, transport, _ = client_for(
        [
            *recorded_once(STREAMING, [11, 14]),
            constructed("POST", f"{BASE}/oauth2/token", 429, None, {"Retry-After": "2"}),
            *recorded_once(STREAMING, [15, 16]),
        ]
    )
    assert client.get_repository_streaming("microsoft") == {"convertPushedImages": False}
    assert transport.sleeps == [2]


def test_retries_exhausted_on_5xx_name_the_operation():
    """Recorded: #29-#31. Constructed: the tag read answered 503 on every one of 1 + retry_total tries."""
    tries = RETRY_SETTINGS["retry_total"] + 1
    client, transport, _ = client_for(
        [
            *recorded_once(STREAMING, [29, 30, 31]),
            *[
                constructed("GET", TAG_URL, 503, {"errors": [{"code": "UNAVAILABLE", "message": "busy"}]})
                for _ in range(tries)
            ],
        ]
    )
    with pytest.raises(AcrDataPlaneError) as raised:
        client.get_tag_digest("microsoft", "azure-cli")
    message = str(raised.value)
    assert "reading tag microsoft:azure-cli on clireg000002.azurecr.io failed: HTTP 503" in message
    assert f"retried it {RETRY_SETTINGS['retry_total']} times" in message and "UNAVAILABLE: busy" in message
    assert len(transport.requests_to("/_tags/")) == tries
    # Exponential backoff from RETRY_SETTINGS (factor 2, capped at 60 s); the first retry is immediate.
    assert transport.sleeps == [4, 8, 16, 32, 60, 60, 60]


def test_retries_exhausted_on_dropped_connections_name_the_operation():
    """Recorded: #29-#31. Constructed: every try of the tag read loses its connection."""
    tries = RETRY_SETTINGS["retry_total"] + 1
    client, transport, _ = client_for(
        [
            *recorded_once(STREAMING, [29, 30, 31]),
            *[
                constructed("GET", TAG_URL, error=ServiceResponseError("Connection reset by peer"))
                for _ in range(tries)
            ],
        ]
    )
    with pytest.raises(
        AcrDataPlaneError,
        match=r"reading tag microsoft:azure-cli on clireg000002.azurecr.io: "
        r"no answer after 8 retries \(ServiceResponseError",
    ):
        client.get_tag_digest("microsoft", "azure-cli")
    assert transport.unused() == []


def test_a_post_whose_connection_dropped_is_not_sent_twice():
    """Constructed: auth, and the conversion POST losing its connection. azure-core does not repeat a
    POST after a read error (the registry may have acted on it); StreamingArtifact's next run finds that
    conversion through GET _streaming/{digest} instead."""
    client, transport, _ = client_for(
        [
            *constructed_auth(LOGIN),
            constructed(
                "POST",
                f"{BASE}/acr/v1/microsoft/_streaming/{DIGEST}",
                error=ServiceResponseError("Connection reset by peer"),
            ),
        ]
    )
    with pytest.raises(AcrDataPlaneError, match="starting the streaming conversion of microsoft@"):
        client.start_conversion("microsoft", DIGEST)
    assert len(transport.requests_to("/_streaming/")) == 1


# --- answers that do not parse (constructed: a proxy's HTML page, a body missing its keys) ---------
def test_an_html_answer_to_a_tag_read_names_the_operation_and_the_registry():
    client, _, _ = client_for(
        [
            *constructed_auth(LOGIN),
            constructed(
                "GET",
                f"{BASE}/acr/v1/microsoft/_tags/azure-cli",
                200,
                "<html>Proxy error; request was: Authorization: Bearer secret.token.value</html>",
                {"content-type": "text/html"},
            ),
        ]
    )
    with pytest.raises(UnparsableAnswerError) as raised:
        client.get_tag_digest("microsoft", "azure-cli")
    message = str(raised.value)
    assert message.startswith(f"reading tag microsoft:azure-cli on {LOGIN}: the answer (HTTP 200) is not JSON")
    assert "secret.token.value" not in message and "[REDACTED]" in message


def test_a_tag_answer_without_its_digest_is_an_error_not_a_key_error():
    client, _, _ = client_for(
        [
            *constructed_auth(LOGIN),
            constructed("GET", f"{BASE}/acr/v1/microsoft/_tags/azure-cli", 200, {"tag": {"name": "azure-cli"}}),
        ]
    )
    with pytest.raises(
        UnparsableAnswerError, match=r"reading tag microsoft:azure-cli on .*: the answer has no tag\.digest"
    ):
        client.get_tag_digest("microsoft", "azure-cli")


def test_a_referrer_without_a_digest_is_an_error():
    client, _, _ = client_for(
        [
            *constructed_auth(LOGIN),
            constructed(
                "GET",
                f"{BASE}/v2/microsoft/referrers/{DIGEST}?artifactType=application%2Fvnd.azure.artifact.streaming.v1",
                200,
                {"manifests": [{"artifactType": STREAMING_ARTIFACT_TYPE}]},
            ),
        ]
    )
    with pytest.raises(UnparsableAnswerError, match="has no digest"):
        client.list_streaming_referrers("microsoft", DIGEST)
