"""Fakes for the registry side: mock outputs for `StreamingRegistry`'s resources, and replay sessions.

The mock fakes return what Azure would compute (login server, ids, digests). `replay_session` builds
the `AzureSession` the provider tests hand to providers (replayed HTTP, recorded sleeps, optional
fake clock), and `constructed_auth` the challenge/exchange/token sequence for registries whose
data-plane auth no recording holds.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import time
from dataclasses import dataclass, field
from typing import Optional

from azure.core.credentials import AccessToken

from providers.base import AzureSession
from tests.fakes import call_fake, resource_fake
from tests.fakes.azure_base import SUBSCRIPTION, TENANT
from tests.replay import Interaction, ReplayTransport, constructed, recorded


def fake_digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


# -- Mocks ------------------------------------------------------------------------------------------
@resource_fake("azure-native:containerregistry:Registry")
def registry(name, inputs):
    registry_name = inputs["registryName"]
    rg = inputs["resourceGroupName"]
    return {
        "name": registry_name,
        "loginServer": f"{registry_name}.azurecr.io",
        "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{rg}/providers/Microsoft.ContainerRegistry/"
              f"registries/{registry_name}",
    }


@call_fake("azure-native:resources:getResourceGroup")
def get_resource_group(args):
    rg = args["resourceGroupName"]
    return {"name": rg, "location": "westeurope", "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{rg}",
            "properties": {"provisioningState": "Succeeded"}}


@resource_fake("pulumi-python:dynamic/acr:ImportedImage")
def imported_image(name, inputs):
    # What the tag would point to: stable per target, different between targets.
    return {"digest": fake_digest(inputs["target"]), "ref": f"{inputs['loginServer']}/{inputs['target']}"}


@resource_fake("pulumi-python:dynamic/acr:StreamingArtifact")
def streaming_artifact(name, inputs):
    return {"streamingArtifactDigest": fake_digest(f"streaming:{inputs['digest']}"), "operationId": name,
            "status": "Succeeded", "reused": False}


@resource_fake("pulumi-python:dynamic/acr:RepositoryStreaming")
def repository_streaming(name, inputs):
    return {}


# -- Replay sessions --------------------------------------------------------------------------------
class FakeCredential:
    """An AAD credential that hands out a placeholder token and remembers what it was asked for."""

    def __init__(self):
        self.requests: list[tuple[tuple[str, ...], dict]] = []

    def get_token(self, *scopes: str, **kwargs) -> AccessToken:
        self.requests.append((scopes, kwargs))
        return AccessToken("REDACTED", int(time.time()) + 3600)


@dataclass
class FakeClock:
    """Time that moves only when the code under test sleeps."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def replay_session(interactions: list[Interaction], clock: Optional[FakeClock] = None,
                   poll_seconds: float = 0) -> tuple[AzureSession, ReplayTransport]:
    transport = ReplayTransport(interactions)
    session = AzureSession(
        SUBSCRIPTION, TENANT, FakeCredential(), transport=transport,
        sleep=clock.sleep if clock else transport.sleep, clock=clock or time.monotonic, poll_seconds=poll_seconds,
    )
    return session, transport


def session_factory(session: AzureSession):
    """A provider `session_factory` that checks it is asked for the stack's subscription and tenant."""

    def make(subscription_id: str, tenant_id: str) -> AzureSession:
        assert (subscription_id, tenant_id) == (session.subscription_id, session.tenant_id)
        return session
    return make


@functools.lru_cache(maxsize=None)
def _recording(file_name: str) -> tuple[Interaction, ...]:
    return tuple(recorded(file_name))


def recorded_once(file_name: str, indices: list[int]) -> list[Interaction]:
    """`tests.replay.recorded(file_name, indices)`, parsing each recording once per test session.

    The recordings carry long signed polling URLs; PyYAML needs about half a second per file, which
    would otherwise dominate the suite. Each call still returns fresh, unused interactions.
    """
    every = _recording(file_name)
    return [dataclasses.replace(every[i]) for i in indices]


def constructed_auth(login_server: str) -> list[Interaction]:
    """`GET /v2/` challenge, `/oauth2/exchange`, `/oauth2/token`, shaped like test_acr_artifact_streaming.yaml#13-15."""
    return [
        constructed("GET", f"https://{login_server}/v2/", 401,
                    {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": None}]},
                    {"www-authenticate":
                     f'Bearer realm="https://{login_server}/oauth2/token",service="{login_server}"'}),
        constructed("POST", f"https://{login_server}/oauth2/exchange", 200, {"refresh_token": "REDACTED"}),
        constructed("POST", f"https://{login_server}/oauth2/token", 200, {"access_token": "REDACTED"}),
    ]
