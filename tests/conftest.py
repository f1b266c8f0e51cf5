"""Shared test fakes: one fake credential and clock, one way to put a provider on replayed HTTP.

Provider tests hand a provider a `session_factory` whose `AzureSession` sends through a
`tests.replay.ReplayTransport`: recorded interactions from `tests/fixtures/azure-http/` or ones
constructed in the same shape (`tests.replay.constructed`), with sleeps recorded instead of slept.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from azure.core.credentials import AccessToken

from offline.fakes.azure_base import SUBSCRIPTION, TENANT
from providers.base import AzureSession
from tests.replay import Interaction, ReplayTransport, constructed, recorded

P = TypeVar("P")
TIMING_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "timing"  # kubectl dumps (build_fixtures.py)


class FakeCredential:
    """An AAD credential that hands out a placeholder token and remembers what it was asked for."""

    def __init__(self, token: str = "REDACTED"):
        self.requests: list[tuple[tuple[str, ...], dict]] = []
        self.token = token

    def get_token(self, *scopes: str, **kwargs) -> AccessToken:
        self.requests.append((scopes, kwargs))
        return AccessToken(self.token, int(time.time()) + 3600)


def replay_session(
    interactions: list[Interaction] | ReplayTransport,
    clock: Callable[[], float] | None = None,
    poll_seconds: float = 0,
    credential: FakeCredential | None = None,
) -> tuple[AzureSession, ReplayTransport]:
    """A session on replayed HTTP; `clock` (an offline.clock.FakeClock, or any callable) also sleeps when it can."""
    transport = interactions if isinstance(interactions, ReplayTransport) else ReplayTransport(interactions)
    sleep = getattr(clock, "sleep", None) or transport.sleep
    session = AzureSession(
        SUBSCRIPTION,
        TENANT,
        credential or FakeCredential(),
        transport=transport,
        sleep=sleep,
        clock=clock or time.monotonic,
        poll_seconds=poll_seconds,
    )
    return session, transport


def session_factory(session: AzureSession):
    """A provider `session_factory` that checks it is asked for the stack's subscription and tenant."""

    def make(subscription_id: str, tenant_id: str) -> AzureSession:
        assert (subscription_id, tenant_id) == (session.subscription_id, session.tenant_id)
        return session

    return make


def provider_on(
    provider_class: Callable[..., P],
    interactions: list[Interaction] | ReplayTransport,
    *,
    clock: Callable[[], float] | None = None,
    poll_seconds: float = 0,
    credential: FakeCredential | None = None,
) -> tuple[P, ReplayTransport]:
    """`provider_class` built on a replay session: the one way provider tests reach Azure."""
    session, transport = replay_session(interactions, clock=clock, poll_seconds=poll_seconds, credential=credential)
    return provider_class(session_factory(session)), transport


@functools.cache
def _recording(file_name: str) -> tuple[Interaction, ...]:
    return tuple(recorded(file_name))


def recorded_once(file_name: str, indices: list[int]) -> list[Interaction]:
    """`tests.replay.recorded(file_name, indices)`, parsing each recording once per test session.

    PyYAML needs about half a second per recording; each call still returns fresh, unused interactions.
    """
    every = _recording(file_name)
    return [dataclasses.replace(every[i]) for i in indices]


def constructed_auth(login_server: str) -> list[Interaction]:
    """`GET /v2/` challenge, `/oauth2/exchange`, `/oauth2/token`, shaped like test_acr_artifact_streaming.yaml#13-15."""
    return [
        constructed(
            "GET",
            f"https://{login_server}/v2/",
            401,
            {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": None}]},
            {"www-authenticate": f'Bearer realm="https://{login_server}/oauth2/token",service="{login_server}"'},
        ),
        constructed("POST", f"https://{login_server}/oauth2/exchange", 200, {"refresh_token": "REDACTED"}),
        constructed("POST", f"https://{login_server}/oauth2/token", 200, {"access_token": "REDACTED"}),
    ]
