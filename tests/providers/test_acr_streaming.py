"""`StreamingArtifact` and `RepositoryStreaming` providers replayed against recorded ACR interactions.

Recordings: tests/fixtures/azure-http/test_acr_artifact_streaming.yaml (`#n` below). No recording has a
conversion reaching Succeeded or Failed, nor an existing streaming referrer: those are constructed,
in the same shapes (`_operations/{id}` bodies as #95, referrers as #40).
"""

from __future__ import annotations

import pytest
from azure.core.exceptions import ServiceResponseError
from pulumi.runtime import rpc

from offline.clock import FakeClock
from providers.acr_dataplane import STREAMING_ARTIFACT_TYPE
from providers.acr_streaming import (
    StreamingArtifactProvider,
    StreamingConversionError,
)
from providers.errors import AzureOperationError, WaitTimeoutError
from tests.conftest import constructed_auth
from tests.providers.scenarios.acr_streaming import (
    ARTIFACT,
    BASE,
    DIGEST,
    LOGIN,
    OPERATION,
    OPERATION_URL,
    PROPS,
    PULL_AUTH,
    REFERRERS_URL,
    REPO_PROPS,
    REPO_URL,
    operation,
    provider_for,
    rec,
    referrers,
    repo_provider_for,
)
from tests.replay import constructed


def test_create_converts_and_waits_for_succeeded():
    """Recorded: #44, #53, #62 (auth); #40 (no streaming referrers); #46 (404 OPERATION_UNKNOWN: never
    converted); #23 (token pull,push); #47 (POST _streaming/{digest} 202 NotStarted).
    Constructed: _operations/{id} Running, then Succeeded; referrers listing the new artifact."""
    provider, transport = provider_for(
        [
            *rec(*PULL_AUTH, 40, 46, 23, 47),
            operation("Running", "40%"),
            operation("Succeeded"),
            referrers(ARTIFACT),
        ]
    )
    result = provider.create(PROPS)
    assert result.outs["streamingArtifactDigest"] == ARTIFACT
    assert result.outs["operationId"] == OPERATION
    assert (result.outs["status"], result.outs["reused"]) == ("Succeeded", False)
    assert "__provider" not in result.outs and result.outs["digest"] == DIGEST
    assert result.id == f"{LOGIN}/microsoft@{DIGEST}"
    [post] = [r for r in transport.sent if r.method == "POST" and "/_streaming/" in r.url]
    assert post.body == {"conversionFormat": "overlaybd", "conversionVersion": "v1"}
    assert transport.unused() == []


def test_existing_artifact_is_reused_without_a_post():
    """Recorded: #44, #53, #62 (auth). Constructed: referrers already listing a streaming artifact."""
    provider, transport = provider_for([*rec(*PULL_AUTH), referrers(ARTIFACT)])
    result = provider.create(PROPS)
    assert result.outs["streamingArtifactDigest"] == ARTIFACT
    assert result.outs["reused"] is True and result.outs["operationId"] is None
    assert [r for r in transport.sent if r.method == "POST" and "/acr/v1/" in r.url] == []
    assert transport.unused() == []


def test_a_running_conversion_is_joined_not_duplicated():
    """Recorded: #44, #53, #62 (auth); #40 (no referrers); #63 (GET _streaming/{digest}: Running, the
    operation an earlier, timed-out run started). Constructed: _operations/{id} Succeeded, referrers."""
    provider, transport = provider_for([*rec(*PULL_AUTH, 40, 63), operation("Succeeded"), referrers(ARTIFACT)])
    result = provider.create(PROPS)
    assert result.outs["operationId"] == OPERATION
    assert [r for r in transport.sent if r.method == "POST" and "/acr/v1/" in r.url] == []
    assert transport.unused() == []


def test_canceled_conversion_fails_with_the_operation_details():
    """Recorded: #44, #53, #62 (auth); #40 (no referrers); #87 (GET _streaming/{digest}: Canceled, so a new
    conversion is started); #23 (token pull,push); #47 (POST 202); #95 (GET _operations/{id}: Canceled)."""
    provider, transport = provider_for(rec(*PULL_AUTH, 40, 87, 23, 47, 95))
    with pytest.raises(StreamingConversionError) as raised:
        provider.create(PROPS)
    message = str(raised.value)
    assert f"operation {OPERATION}" in message and "ended Canceled" in message
    assert f"Conversion started for resource microsoft@{DIGEST}" in message
    assert transport.unused() == []


def test_failed_conversion_fails_with_the_operation_details():
    """Recorded: #44, #53, #62, #40, #46, #23, #47. Constructed: _operations/{id} Failed."""
    provider, _ = provider_for(
        [
            *rec(*PULL_AUTH, 40, 46, 23, 47),
            operation("Failed", "12%", "Conversion failed: layer sha256:abc is not a valid tar archive"),
        ]
    )
    with pytest.raises(StreamingConversionError, match=r"ended Failed: Conversion failed: layer sha256:abc is not"):
        provider.create(PROPS)


def test_conversion_timeout_says_what_is_still_running_and_how_to_wait_longer():
    """Recorded: #44, #53, #62, #40, #46, #23, #47. Constructed: _operations/{id} Running three times.
    Fake clock: 60 s between polls, a 2-minute limit."""
    clock = FakeClock()
    provider, _ = provider_for(
        [
            *rec(*PULL_AUTH, 40, 46, 23, 47),
            *[operation("Running", f"{p}%") for p in (10, 20, 30)],
        ],
        clock=clock,
        poll_seconds=60,
    )
    with pytest.raises(WaitTimeoutError) as raised:
        provider.create({**PROPS, "timeoutMinutes": 2})
    message = str(raised.value)
    assert f"operation {OPERATION}" in message and "status Running, progress 30%" in message
    assert "acr-streaming-ab:timeouts.conversionMinutes" in message
    assert clock.t == 120


def test_retryable_fault_while_polling_is_retried():
    """Recorded: #44, #53, #62, #40, #46, #23, #47. Constructed: a 503 on the first poll, then Succeeded."""
    provider, transport = provider_for(
        [
            *rec(*PULL_AUTH, 40, 46, 23, 47),
            constructed("GET", OPERATION_URL, 503, {"errors": [{"code": "UNAVAILABLE", "message": "busy"}]}),
            operation("Succeeded"),
            referrers(ARTIFACT),
        ]
    )
    assert provider.create(PROPS).outs["streamingArtifactDigest"] == ARTIFACT
    assert transport.unused() == []


def test_missing_image_cannot_be_converted():
    """Recorded: #44, #53, #62. Constructed: referrers 404 MANIFEST_UNKNOWN."""
    provider, _ = provider_for(
        [
            *rec(*PULL_AUTH),
            constructed("GET", REFERRERS_URL, 404, {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "unknown"}]}),
        ]
    )
    with pytest.raises(Exception, match="does not exist in clireg000002.azurecr.io"):
        provider.create(PROPS)


def test_read_keeps_an_existing_artifact():
    """Recorded: #44, #53, #62. Constructed: referrers listing the artifact (and an older one)."""
    provider, _ = provider_for([*rec(*PULL_AUTH), referrers("sha256:" + "1" * 64, ARTIFACT)])
    result = provider.read("id", {**PROPS, "streamingArtifactDigest": ARTIFACT})
    assert result.id == "id" and result.outs["streamingArtifactDigest"] == ARTIFACT


def test_read_after_the_artifact_was_deleted_reports_it_gone():
    """Recorded: #44, #53, #62, #40 (an empty referrers list)."""
    provider, _ = provider_for(rec(*PULL_AUTH, 40))
    result = provider.read("id", {**PROPS, "streamingArtifactDigest": ARTIFACT})
    assert result.id is None and result.outs == {}


def test_read_after_the_image_was_deleted_reports_it_gone():
    """Recorded: #44, #53, #62. Constructed: referrers 404 MANIFEST_UNKNOWN."""
    provider, _ = provider_for(
        [
            *rec(*PULL_AUTH),
            constructed("GET", REFERRERS_URL, 404, {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "unknown"}]}),
        ]
    )
    assert provider.read("id", {**PROPS, "streamingArtifactDigest": ARTIFACT}).id is None


def test_diff():
    """No HTTP."""
    provider = StreamingArtifactProvider()
    olds = {**PROPS, "streamingArtifactDigest": ARTIFACT, "operationId": OPERATION}
    same = provider.diff("id", olds, {**PROPS, "__provider": "re-pickled", "timeoutMinutes": 600})
    assert same.changes is False and same.replaces == []
    moved = provider.diff("id", olds, {**PROPS, "digest": "sha256:" + "f" * 64})
    assert moved.changes is True and moved.replaces == []
    # A preview while the import updates in place: the digest is not known yet, and that is an update.
    unknown = provider.diff("id", olds, {**PROPS, "digest": rpc.UNKNOWN})
    assert unknown.changes is True and unknown.replaces == []
    assert provider.diff("id", olds, {**PROPS, "repository": "other"}).replaces == ["repository"]
    other_registry = provider.diff("id", olds, {**PROPS, "loginServer": "other.azurecr.io"})
    assert other_registry.replaces == ["loginServer"]
    tenant = provider.diff("id", olds, {**PROPS, "tenantId": "33333333-3333-3333-3333-333333333333"})
    assert tenant.changes is True and tenant.replaces == []


def test_update_calls_nothing_and_keeps_the_artifact():
    """No HTTP: an empty replay would fail any request."""
    provider, transport = provider_for([])
    olds = {
        **PROPS,
        "streamingArtifactDigest": ARTIFACT,
        "operationId": OPERATION,
        "status": "Succeeded",
        "reused": False,
    }
    outs = provider.update("id", olds, {**PROPS, "tenantId": "t2"}).outs
    assert outs["streamingArtifactDigest"] == ARTIFACT and outs["tenantId"] == "t2"
    assert transport.sent == []


def test_delete_leaves_the_referrer_with_its_image():
    """Recorded: #44, #53, #62 (auth, pull); #87 (last conversion Canceled: nothing running). No DELETE:
    another declared resource may hold the same repository@digest under another name."""
    provider, transport = provider_for(rec(*PULL_AUTH, 87))
    provider.delete("id", {**PROPS, "streamingArtifactDigest": ARTIFACT, "reused": False, "operationId": OPERATION})
    assert transport.unused() == []
    assert [r for r in transport.sent if r.method == "DELETE"] == []


def test_delete_cancels_the_conversion_it_started_while_it_still_runs():
    """Recorded: #44, #53, #62; #63 (Running, operation OPERATION); #23 (token pull,push); #71 (cancel)."""
    provider, transport = provider_for(rec(*PULL_AUTH, 63, 23, 71))
    provider.delete("id", {**PROPS, "streamingArtifactDigest": ARTIFACT, "reused": False, "operationId": OPERATION})
    assert transport.unused() == []


def test_delete_leaves_a_running_conversion_it_did_not_start():
    """Recorded: #44, #53, #62; #63 (Running, operation OPERATION). The resource recorded another
    operation: the running one is not its own."""
    provider, transport = provider_for(rec(*PULL_AUTH, 63))
    provider.delete("id", {**PROPS, "streamingArtifactDigest": ARTIFACT, "reused": False, "operationId": "other"})
    assert transport.unused() == []
    assert transport.requests_to(":cancel") == []


def test_delete_leaves_an_artifact_it_found_existing():
    """No HTTP: the artifact was not made by this stack."""
    provider, transport = provider_for([])
    provider.delete("id", {**PROPS, "streamingArtifactDigest": ARTIFACT, "reused": True})
    assert transport.sent == []


def test_auto_conversion_create():
    """Recorded: #21 (challenge), #22 (exchange), #23 (token pull,push), #24 (POST _streaming 202 Succeeded)."""
    provider, transport = repo_provider_for(rec(21, 22, 23, 24))
    result = provider.create(REPO_PROPS)
    assert result.outs["convertPushedImages"] is True and result.id == f"{LOGIN}/microsoft"
    assert transport.sent[-1].body == {
        "convertPushedImages": True,
        "conversionFormat": "overlaybd",
        "conversionVersion": "v1",
    }


def test_auto_conversion_create_waits_for_a_running_operation():
    """Recorded: #21, #22, #23. Constructed: POST _streaming 202 Running, then its operation Succeeded."""
    provider, transport = repo_provider_for(
        [
            *rec(21, 22, 23),
            constructed("POST", REPO_URL, 202, {"id": OPERATION, "status": "Running", "convertPushedImages": True}),
            constructed("POST", f"{BASE}/oauth2/token", 200, {"access_token": "REDACTED"}),
            operation("Succeeded"),
        ]
    )
    assert provider.create(REPO_PROPS).outs["convertPushedImages"] is True
    assert transport.unused() == []


def test_auto_conversion_read_shows_drift_and_absence():
    """Recorded: #11, #14, #15, #16 (convertPushedImages false). Constructed: the second read's auth (each
    provider call builds its own client), and 404 NAME_UNKNOWN."""
    provider, _ = repo_provider_for(
        [
            *rec(11, 14, 15, 16),
            *constructed_auth(LOGIN),
            constructed("GET", REPO_URL, 404, {"errors": [{"code": "NAME_UNKNOWN", "message": "repository unknown"}]}),
        ]
    )
    assert provider.read("id", REPO_PROPS).outs["convertPushedImages"] is False
    gone = provider.read("id", REPO_PROPS)
    assert gone.id is None and gone.outs == {}


def test_auto_conversion_update_and_diff():
    """Recorded: #21, #22, #23 (auth pull,push). Constructed: POST _streaming (false) 202 Succeeded."""
    provider, transport = repo_provider_for(
        [
            *rec(21, 22, 23),
            constructed("POST", REPO_URL, 202, {"id": OPERATION, "status": "Succeeded", "convertPushedImages": False}),
        ]
    )
    diff = provider.diff("id", REPO_PROPS, {**REPO_PROPS, "convertPushedImages": False, "timeoutMinutes": 5})
    assert diff.changes is True and diff.replaces == []
    assert provider.diff("id", REPO_PROPS, {**REPO_PROPS, "repository": "other"}).replaces == ["repository"]
    outs = provider.update("id", REPO_PROPS, {**REPO_PROPS, "convertPushedImages": False}).outs
    assert outs["convertPushedImages"] is False
    assert transport.sent[-1].body["convertPushedImages"] is False


def test_auto_conversion_delete_switches_it_off():
    """Recorded: #11, #14, #15 (auth pull). Constructed: GET _streaming true; token pull,push; POST false."""
    provider, transport = repo_provider_for(
        [
            *rec(11, 14, 15),
            constructed("GET", REPO_URL, 200, {"convertPushedImages": True}),
            constructed("POST", f"{BASE}/oauth2/token", 200, {"access_token": "REDACTED"}),
            constructed("POST", REPO_URL, 202, {"id": OPERATION, "status": "Succeeded", "convertPushedImages": False}),
        ]
    )
    provider.delete("id", REPO_PROPS)
    assert transport.sent[-1].body["convertPushedImages"] is False
    assert transport.unused() == []


def test_auto_conversion_delete_of_a_missing_repository_does_nothing_more():
    """Recorded: #11, #14, #15. Constructed: GET _streaming 404 NAME_UNKNOWN."""
    provider, transport = repo_provider_for(
        [
            *rec(11, 14, 15),
            constructed("GET", REPO_URL, 404, {"errors": [{"code": "NAME_UNKNOWN", "message": "repository unknown"}]}),
        ]
    )
    provider.delete("id", REPO_PROPS)
    assert transport.unused() == [] and transport.sent[-1].method == "GET"


def _switch_off_answer(status: str):
    """Recorded: #11, #14, #15 (auth pull). Constructed: GET _streaming true; token pull,push; POST false
    answered with `status`."""
    return [
        *rec(11, 14, 15),
        constructed("GET", REPO_URL, 200, {"convertPushedImages": True}),
        constructed("POST", f"{BASE}/oauth2/token", 200, {"access_token": "REDACTED"}),
        constructed("POST", REPO_URL, 202, {"id": OPERATION, "status": status, "convertPushedImages": False}),
    ]


def test_auto_conversion_delete_waits_for_a_running_operation():
    """Recorded: #11, #14, #15. Constructed: switch-off POST 202 Running; its operation Running, then
    Succeeded (polled with the pull token already held)."""
    provider, transport = repo_provider_for(
        [
            *_switch_off_answer("Running"),
            operation("Running", "50%"),
            operation("Succeeded"),
        ]
    )
    provider.delete("id", REPO_PROPS)
    assert transport.unused() == []
    assert [r.method for r in transport.requests_to(OPERATION_URL)] == ["GET", "GET"]


def test_auto_conversion_delete_fails_when_the_operation_fails():
    """Recorded: #11, #14, #15. Constructed: switch-off POST 202 NotStarted; its operation Failed."""
    provider, transport = repo_provider_for(
        [
            *_switch_off_answer("NotStarted"),
            operation("Failed", "0%", "Repository microsoft is locked for writes"),
        ]
    )
    with pytest.raises(AzureOperationError) as raised:
        provider.delete("id", REPO_PROPS)
    assert isinstance(raised.value, StreamingConversionError)
    message = str(raised.value)
    assert "setting convertPushedImages=false on microsoft" in message and f"operation {OPERATION}" in message
    assert "ended Failed: Repository microsoft is locked for writes" in message
    assert transport.unused() == []


@pytest.mark.parametrize("status", ["Failed", "Canceled"])
def test_auto_conversion_delete_fails_on_a_failed_answer(status):
    """Recorded: #11, #14, #15. Constructed: switch-off POST answered Failed/Canceled outright."""
    provider, transport = repo_provider_for(_switch_off_answer(status))
    with pytest.raises(
        StreamingConversionError, match=rf"setting convertPushedImages=false on microsoft ended {status}"
    ):
        provider.delete("id", REPO_PROPS)
    assert transport.unused() == []


def test_auto_conversion_delete_gives_up_after_timeout_minutes():
    """Recorded: #11, #14, #15. Constructed: switch-off POST 202 Running; the operation Running three times.
    Fake clock: 60 s between polls, a 2-minute limit."""
    clock = FakeClock()
    provider, _ = repo_provider_for(
        [
            *_switch_off_answer("Running"),
            *[operation("Running", f"{p}%") for p in (10, 20, 30)],
        ],
        clock=clock,
        poll_seconds=60,
    )
    with pytest.raises(WaitTimeoutError) as raised:
        provider.delete("id", {**REPO_PROPS, "timeoutMinutes": 2})
    assert "setting convertPushedImages=false on microsoft" in str(raised.value)
    assert "acr-streaming-ab:timeouts.conversionMinutes" in str(raised.value)
    assert clock.t == 120


def test_auto_conversion_delete_of_a_switch_already_off_posts_nothing():
    """Recorded: #11, #14, #15, #16 (convertPushedImages false)."""
    provider, transport = repo_provider_for(rec(11, 14, 15, 16))
    provider.delete("id", REPO_PROPS)
    assert transport.unused() == [] and [r.method for r in transport.sent if "/_streaming" in r.url] == ["GET"]


# --- multi-arch tags (constructed: no recording converts an index) ---------------------------------
CHILD = "sha256:" + "a" * 64
CHILD_REFERRERS_URL = (
    f"{BASE}/v2/microsoft/referrers/{CHILD}?artifactType=application%2Fvnd.azure.artifact.streaming.v1"
)


def manifest_of(digest: str, body: dict):
    return constructed(
        "GET",
        f"{BASE}/v2/microsoft/manifests/{digest}",
        200,
        body,
        {"content-type": body["mediaType"], "docker-content-digest": digest},
    )


INDEX = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": "sha256:" + "b" * 64,
            "size": 1,
            "platform": {"os": "linux", "architecture": "arm64"},
        },
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": CHILD,
            "size": 1,
            "platform": {"os": "linux", "architecture": "amd64"},
        },
    ],
}
SINGLE = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"digest": "sha256:c"},
}


def empty_referrers(url: str):
    return constructed("GET", url, 200, {"schemaVersion": 2, "manifests": []}, {"oci-filters-applied": "artifactType"})


def test_an_index_whose_referrer_lands_on_its_amd64_manifest_is_found_there():
    """The conversion is started on the index digest (as `az acr artifact-streaming create` does with a
    tag); the artifact then appears on the linux/amd64 child: the wait finds it and records the subject."""
    provider, transport = provider_for(
        [
            *rec(*PULL_AUTH, 40, 46, 23, 47),
            operation("Succeeded"),
            empty_referrers(REFERRERS_URL),
            manifest_of(DIGEST, INDEX),
            constructed(
                "GET",
                CHILD_REFERRERS_URL,
                200,
                {"manifests": [{"digest": ARTIFACT, "artifactType": STREAMING_ARTIFACT_TYPE}]},
            ),
        ]
    )
    result = provider.create(PROPS)
    assert result.outs["streamingArtifactDigest"] == ARTIFACT
    assert result.outs["streamingArtifactSubject"] == CHILD
    [post] = [r for r in transport.sent if r.method == "POST" and "/_streaming/" in r.url]
    assert post.url.endswith(f"/_streaming/{DIGEST}")
    assert transport.unused() == []


def test_an_index_whose_referrer_lands_on_the_index_needs_no_manifest_read():
    provider, transport = provider_for([*rec(*PULL_AUTH, 40, 46, 23, 47), operation("Succeeded"), referrers(ARTIFACT)])
    result = provider.create(PROPS)
    assert result.outs["streamingArtifactSubject"] == DIGEST
    assert not any("/manifests/" in r.url for r in transport.sent)


def test_a_single_manifest_waits_on_its_own_digest_only():
    clock = FakeClock()
    provider, transport = provider_for(
        [
            *rec(*PULL_AUTH, 40, 46, 23, 47),
            operation("Succeeded"),
            empty_referrers(REFERRERS_URL),
            manifest_of(DIGEST, SINGLE),
            empty_referrers(REFERRERS_URL),
            referrers(ARTIFACT),
        ],
        clock=clock,
    )
    result = provider.create(PROPS)
    assert result.outs["streamingArtifactSubject"] == DIGEST
    # The manifest is read once, and no child is ever asked for.
    assert sum("/manifests/" in r.url for r in transport.sent) == 1
    assert not any(CHILD in r.url for r in transport.sent)


def test_read_checks_the_recorded_subject():
    provider, transport = provider_for(
        [
            *rec(*PULL_AUTH),
            constructed(
                "GET",
                CHILD_REFERRERS_URL,
                200,
                {"manifests": [{"digest": ARTIFACT, "artifactType": STREAMING_ARTIFACT_TYPE}]},
            ),
        ]
    )
    result = provider.read("id", {**PROPS, "streamingArtifactDigest": ARTIFACT, "streamingArtifactSubject": CHILD})
    assert result.id == "id" and result.outs["streamingArtifactDigest"] == ARTIFACT


def test_an_unanswered_conversion_post_is_not_sent_again_when_it_started_one():
    """Recorded: #44, #53, #62 (auth); #40 (no referrers); #46 (404: never converted); #23 (token
    pull,push). Constructed: the POST answered 503 (sent once: azure-core would resend a POST after a
    503), then `GET _streaming/{digest}` showing the conversion that POST started, Running; it is
    joined and awaited, and no second POST goes out."""
    busy = {"errors": [{"code": "UNAVAILABLE", "message": "service unavailable"}]}
    provider, transport = provider_for(
        [
            *rec(*PULL_AUTH, 40, 46, 23),
            constructed("POST", f"{BASE}/acr/v1/microsoft/_streaming/{DIGEST}", 503, busy),
            constructed(
                "GET", f"{BASE}/acr/v1/microsoft/_streaming/{DIGEST}", 200, {"id": OPERATION, "status": "Running"}
            ),
            operation("Succeeded"),
            referrers(ARTIFACT),
        ]
    )
    result = provider.create(PROPS)
    assert result.outs["operationId"] == OPERATION and result.outs["streamingArtifactDigest"] == ARTIFACT
    assert len([r for r in transport.sent if r.method == "POST" and "/_streaming/" in r.url]) == 1
    assert transport.unused() == []


def test_an_unanswered_conversion_post_that_started_nothing_is_sent_once_more():
    """As above, but the look after the dropped connection finds no conversion (404): one more POST."""
    unknown = {"errors": [{"code": "OPERATION_UNKNOWN", "message": "operation unknown"}]}
    post = f"{BASE}/acr/v1/microsoft/_streaming/{DIGEST}"
    provider, transport = provider_for(
        [
            *rec(*PULL_AUTH, 40, 46, 23),
            constructed("POST", post, error=ServiceResponseError("Connection reset by peer")),
            constructed("GET", post, 404, unknown),
            constructed("POST", post, 202, {"id": OPERATION, "status": "NotStarted"}),
            operation("Succeeded"),
            referrers(ARTIFACT),
        ]
    )
    assert provider.create(PROPS).outs["operationId"] == OPERATION
    assert len([r for r in transport.sent if r.method == "POST" and "/_streaming/" in r.url]) == 2
    assert transport.unused() == []


def test_a_new_digest_converts_it_in_place_and_leaves_the_old_one_as_delete_does():
    """Recorded: #44, #53, #62 (auth); #23 (token pull,push). Constructed: no referrers of the new digest
    (the empty index as #40), never converted (404 as #46), the POST 202, the operation Succeeded, the
    new referrers; then, as `delete` would, the old digest's conversion is read (done: nothing to cancel)."""
    new_digest = "sha256:" + "f" * 64
    new_artifact = "sha256:" + "d" * 64
    base = f"{BASE}/v2/microsoft/referrers"
    query = "?artifactType=application%2Fvnd.azure.artifact.streaming.v1"
    empty = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}
    found = {**empty, "manifests": [{"digest": new_artifact, "artifactType": STREAMING_ARTIFACT_TYPE}]}
    streaming = f"{BASE}/acr/v1/microsoft/_streaming"
    provider, transport = provider_for(
        [
            *rec(*PULL_AUTH),
            constructed("GET", f"{base}/{new_digest}{query}", 200, empty),
            constructed("GET", f"{streaming}/{new_digest}", 404, {"errors": []}),
            *rec(23),
            constructed("POST", f"{streaming}/{new_digest}", 202, {"id": OPERATION, "status": "NotStarted"}),
            operation("Succeeded"),
            constructed("GET", f"{base}/{new_digest}{query}", 200, found),
            *rec(*PULL_AUTH),
            constructed("GET", f"{streaming}/{DIGEST}", 200, {"id": OPERATION, "status": "Succeeded"}),
        ]
    )
    olds = {**PROPS, "streamingArtifactDigest": ARTIFACT, "streamingArtifactSubject": DIGEST, "reused": False}
    outs = provider.update("id", olds, {**PROPS, "digest": new_digest}).outs
    assert (outs["digest"], outs["streamingArtifactDigest"]) == (new_digest, new_artifact)
    assert not [r for r in transport.sent if r.method == "DELETE"]
    assert transport.unused() == []
