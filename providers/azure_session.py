"""One way for every dynamic provider to reach Azure: credential, retries, waits and their limits.

The subscription and tenant always arrive as resource inputs taken from azure-native's
`authorization.get_client_config()`, so the dynamic providers act exactly where azure-native does and
never on a second default (such as the `az` CLI's current subscription).
Transient faults (429 honouring Retry-After, 408/5xx, dropped connections) are retried by azure-core's
RetryPolicy with exponential backoff; everything that waits goes through `wait_until`, whose timeout
names what was still running and the config key that raises the limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, TypeVar

from azure.core.credentials import AccessToken, TokenCredential
from azure.core.pipeline.transport import HttpTransport

ARM_SCOPE = "https://management.azure.com/.default"

# azure-core RetryPolicy settings: up to 8 tries, 2 s, 4 s, 8 s ... capped at 60 s; a Retry-After header
# from the service takes precedence over the computed backoff.
RETRY_SETTINGS = {
    "retry_total": 8,
    "retry_connect": 8,
    "retry_read": 8,
    "retry_status": 8,
    "retry_backoff_factor": 2.0,
    "retry_backoff_max": 60,
}
# How often long-running operations are polled when the service gives no Retry-After.
DEFAULT_POLL_SECONDS = 10.0

T = TypeVar("T")


class AzureOperationError(Exception):
    """An Azure operation ended in a state other than success; the message carries Azure's own words."""


class WaitTimeoutError(AzureOperationError):
    """A wait ran out of time; says what was still running and which config key raises the limit."""


class TenantBoundCredential(TokenCredential):
    """Asks the wrapped credential for tokens of the stack's tenant, whatever its own default is."""

    def __init__(self, inner: TokenCredential, tenant_id: str):
        self._inner = inner
        self._tenant_id = tenant_id

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        kwargs.setdefault("tenant_id", self._tenant_id)
        return self._inner.get_token(*scopes, **kwargs)


@dataclass
class AzureSession:
    """What a provider needs to call Azure for one subscription/tenant.

    `transport` and `sleep` are replaced in tests (replayed HTTP, no real waiting); production uses
    azure-core's default requests transport and `time.sleep`.
    """

    subscription_id: str
    tenant_id: str
    credential: TokenCredential
    transport: Optional[HttpTransport] = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    poll_seconds: float = DEFAULT_POLL_SECONDS
    extra_client_kwargs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_environment(cls, subscription_id: str, tenant_id: str) -> "AzureSession":
        # Imported here so that building and pickling providers never touches the identity stack.
        from azure.identity import DefaultAzureCredential

        # DefaultAzureCredential: the user's `az login`, or workload identity federation (OIDC) in CI.
        inner = DefaultAzureCredential(additionally_allowed_tenants=["*"])
        return cls(subscription_id, tenant_id, TenantBoundCredential(inner, tenant_id))

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for any azure-mgmt-* client or azure-core PipelineClient."""
        kwargs: dict[str, Any] = {**RETRY_SETTINGS, "polling_interval": self.poll_seconds,
                                  **self.extra_client_kwargs}
        if self.transport is not None:
            kwargs["transport"] = self.transport
        return kwargs

    def wait_until(
        self,
        fetch: Callable[[], T],
        done: Callable[[T], bool],
        *,
        timeout_minutes: float,
        what: str,
        timeout_key: str,
        describe: Callable[[T], str] = repr,
    ) -> T:
        """Poll `fetch` until `done`; on timeout say what was still running and how to wait longer."""
        deadline = self.clock() + timeout_minutes * 60
        while True:
            state = fetch()
            if done(state):
                return state
            if self.clock() >= deadline:
                raise WaitTimeoutError(
                    f"timed out after {timeout_minutes:g} min waiting for {what}; still running: "
                    f"{describe(state)}. The operation may still finish in Azure: raise "
                    f"acr-streaming-ab:{timeout_key} and run `pulumi up` again to pick it up."
                )
            self.sleep(self.poll_seconds)


SessionFactory = Callable[[str, str], AzureSession]


def session_for(inputs: dict[str, Any], factory: Optional[SessionFactory]) -> AzureSession:
    """The session for a resource's `subscriptionId`/`tenantId` inputs."""
    make = factory or AzureSession.from_environment
    return make(inputs["subscriptionId"], inputs["tenantId"])
