"""StreamingArtifact / RepositoryStreaming scenarios shared by their tests and the dynamic-provider contracts."""

from __future__ import annotations

from providers.acr_dataplane import STREAMING_ARTIFACT_TYPE
from providers.acr_streaming import (
    RepositoryStreamingProvider,
    StreamingArtifactProvider,
)
from tests.conftest import provider_on, recorded_once, replay_session, session_factory
from tests.replay import SUBSCRIPTION, TENANT, constructed

STREAMING = "test_acr_artifact_streaming.yaml"


LOGIN = "clireg000002.azurecr.io"


BASE = f"https://{LOGIN}"


DIGEST = "sha256:622731d3e3a16b11a1f318b1c5018d0c44996b4c096b864fe2eac5b8beab535a"


OPERATION = "7dfcc117-d980-4c19-8817-3171e14186ca"


ARTIFACT = "sha256:" + "e" * 64


REFERRERS_URL = f"{BASE}/v2/microsoft/referrers/{DIGEST}?artifactType=application%2Fvnd.azure.artifact.streaming.v1"


OPERATION_URL = f"{BASE}/acr/v1/microsoft/_operations/{OPERATION}"


PROPS = {
    "subscriptionId": SUBSCRIPTION,
    "tenantId": TENANT,
    "loginServer": LOGIN,
    "repository": "microsoft",
    "digest": DIGEST,
    "timeoutMinutes": 60,
    "__provider": "pickled",
}


def rec(*indices: int):
    return recorded_once(STREAMING, list(indices))


def referrers(*digests: str):
    return constructed(
        "GET",
        REFERRERS_URL,
        200,
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": d,
                    "size": 1500,
                    "artifactType": STREAMING_ARTIFACT_TYPE,
                    "annotations": {"streaming.format": "overlaybd", "streaming.version": "v1"},
                }
                for d in digests
            ],
        },
        {"oci-filters-applied": "artifactType"},
    )


def operation(status: str, progress: str = "100%", details: str = "Conversion completed"):
    return constructed(
        "GET",
        OPERATION_URL,
        200,
        {
            "name": "ArtifactStreamingConversion",
            "status": status,
            "progress": progress,
            "details": details,
            "resource": f"microsoft@{DIGEST}",
            "startTime": "2025-04-28T03:54:17Z",
        },
    )


def provider_for(interactions, clock=None, poll_seconds=0):
    return provider_on(StreamingArtifactProvider, interactions, clock=clock, poll_seconds=poll_seconds)


# Auth for a pull-scoped first call: #44 (GET /v2/ 401), #53 (exchange), #62 (token, pull).
PULL_AUTH = (44, 53, 62)


# -- RepositoryStreaming ---------------------------------------------------------------------------
REPO_PROPS = {
    "subscriptionId": SUBSCRIPTION,
    "tenantId": TENANT,
    "loginServer": LOGIN,
    "repository": "microsoft",
    "convertPushedImages": True,
    "timeoutMinutes": 60,
    "__provider": "pickled",
}


REPO_URL = f"{BASE}/acr/v1/microsoft/_streaming"


def repo_provider_for(interactions, clock=None, poll_seconds=0):
    session, transport = replay_session(interactions, clock=clock, poll_seconds=poll_seconds)
    return RepositoryStreamingProvider(session_factory(session)), transport
