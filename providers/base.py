"""The one base every dynamic provider stands on: target, session, inputs, diff, polling, skeleton.

The subscription and tenant (`AzureTarget`) arrive as resource inputs from azure-native's
`get_client_config()`, so the providers act exactly where azure-native does. Transient faults are
retried by azure-core's RetryPolicy; every wait goes through `AzureSession.wait_until`, whose timeout
names what was still running and the `timeouts.*` key that raises the limit. Error text: errors.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pulumi
import pulumi.dynamic as dynamic
from azure.core.credentials import AccessToken, TokenCredential
from azure.core.pipeline.policies import RetryPolicy
from azure.core.pipeline.transport import HttpTransport
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy
from azure.mgmt.core.polling.arm_polling import ARMPolling

from providers.errors import (
    AzureOperationError,
    WaitTimeoutError,
    body_excerpt,
    failing_cleanly,
    sane_retry_after,
    scrub,
)

ARM_HOST = "management.azure.com"
ARM_SCOPE = f"https://{ARM_HOST}/.default"

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


class BoundedRetryPolicy(RetryPolicy):
    """azure-core's RetryPolicy with two limits it lacks.

    A Retry-After is obeyed only up to `retry_backoff_max` (a 24 h answer must not sleep 24 h), and a
    409 is never retried here, even with Retry-After: whether a conflict is worth waiting for
    ("another operation is in progress") is the provider's call, within the operation's budget.
    """

    def is_retry(self, settings, response) -> bool:
        if response.http_response.status_code == 409:
            return False
        return super().is_retry(settings, response)

    def get_retry_after(self, response) -> float | None:
        # azure-core raises on a Retry-After that is neither a number nor a date ("Invalid HTTP date")
        # and would sleep NaN; anything but a finite, non-negative number of seconds means "use the backoff".
        headers = response.http_response.headers
        seconds = sane_retry_after(headers.get("Retry-After"))
        if seconds is None:
            milliseconds = sane_retry_after(headers.get("retry-after-ms") or headers.get("x-ms-retry-after-ms"))
            seconds = None if milliseconds is None else milliseconds / 1000
        return seconds

    def _sleep_for_retry(self, response, transport) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after:
            transport.sleep(min(retry_after, self.backoff_max))
            return True
        return False


def retry_policy() -> BoundedRetryPolicy:
    return BoundedRetryPolicy(**RETRY_SETTINGS)


class ForeignHostError(AzureOperationError):
    """An ARM client was about to send its token to a host other than Azure Resource Manager."""


class ArmOnlyAuthenticationPolicy(ARMChallengeAuthenticationPolicy):
    """The ARM bearer token goes to the ARM endpoint only.

    A long-running operation is polled at the URL its answer names (`Location`,
    `Azure-AsyncOperation`); one on another host is refused instead of being sent the token.
    """

    def on_request(self, request) -> None:
        url = urlsplit(request.http_request.url)
        if url.hostname is None or url.hostname.lower() != ARM_HOST or url.scheme != "https":
            raise ForeignHostError(
                f"refused to send the Azure Resource Manager token to {url.scheme}://{url.netloc}{url.path} "
                f"(only {ARM_HOST} gets it): an answer pointed there"
            )
        super().on_request(request)


# How often long-running operations are polled when the service gives no Retry-After.
DEFAULT_POLL_SECONDS = 10.0

T = TypeVar("T")


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
    transport: HttpTransport | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    poll_seconds: float = DEFAULT_POLL_SECONDS
    extra_client_kwargs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_environment(cls, subscription_id: str, tenant_id: str) -> AzureSession:
        # Imported here so that building and pickling providers never touches the identity stack.
        from azure.identity import DefaultAzureCredential

        # DefaultAzureCredential: the user's `az login`, or workload identity federation (OIDC) in CI.
        inner = DefaultAzureCredential(additionally_allowed_tenants=["*"])
        return cls(subscription_id, tenant_id, TenantBoundCredential(inner, tenant_id))

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for any azure-mgmt-* client or azure-core PipelineClient."""
        kwargs: dict[str, Any] = {
            **RETRY_SETTINGS,
            "retry_policy": retry_policy(),
            "polling_interval": self.poll_seconds,
            **self.extra_client_kwargs,
        }
        if self.transport is not None:
            kwargs["transport"] = self.transport
        return kwargs

    def arm_client(self, client_type: Callable[..., T]) -> T:
        """An azure-mgmt-* client for this subscription, with the session's retries and transport."""
        guard = ArmOnlyAuthenticationPolicy(self.credential, ARM_SCOPE)
        return client_type(self.credential, self.subscription_id, authentication_policy=guard, **self.client_kwargs())

    def wait_until(
        self,
        fetch: Callable[[], T],
        done: Callable[[T], bool],
        *,
        timeout_minutes: float,
        what: str,
        timeout_key: str,
        describe: Callable[[T], str] = repr,
        deadline: float | None = None,
    ) -> T:
        """Poll `fetch` until `done`; on timeout say what was still running and how to wait longer.

        `deadline` (a `clock()` value) ends the wait earlier when the operation's budget of
        `timeout_minutes` was partly spent before this wait began.
        """
        if deadline is None:
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
            # Never sleep past the deadline: the last look happens when the budget ends.
            self.sleep(min(self.poll_seconds, max(deadline - self.clock(), 0.0)))


SessionFactory = Callable[[str, str], AzureSession]


# -- The inputs every dynamic resource declares -------------------------------------------------------
SUBSCRIPTION_INPUT = "subscriptionId"
TENANT_INPUT = "tenantId"
# The waiting limit, from `acr-streaming-ab:timeouts.*`.
TIMEOUT_INPUT = "timeoutMinutes"
# The pickled provider travels as an input; it and the waiting limit never reach Azure.
PROVIDER_KEY = "__provider"
IGNORED_IN_DIFF = (PROVIDER_KEY, TIMEOUT_INPUT)


@dataclass(frozen=True)
class AzureTarget:
    """The subscription and tenant the dynamic resources act on: azure-native's client config, made once."""

    subscription_id: pulumi.Input[str]
    tenant_id: pulumi.Input[str]


def declared_inputs(
    target: AzureTarget, timeout_minutes: Any, inputs: dict[str, Any], outputs: Iterable[str] = ()
) -> dict[str, Any]:
    """What a dynamic resource registers: the target, its own inputs, the limit, and None for each output."""
    return {
        SUBSCRIPTION_INPUT: target.subscription_id,
        TENANT_INPUT: target.tenant_id,
        **inputs,
        TIMEOUT_INPUT: timeout_minutes,
        **dict.fromkeys(outputs),
    }


def timeout_of(props: dict[str, Any]) -> float:
    """A resource's waiting limit (the host hands every number as a float; tests may pass ints)."""
    return float(props[TIMEOUT_INPUT])


def session_for(inputs: dict[str, Any], factory: SessionFactory | None) -> AzureSession:
    """The session for a resource's `subscriptionId`/`tenantId` inputs."""
    make = factory or AzureSession.from_environment
    return make(inputs[SUBSCRIPTION_INPUT], inputs[TENANT_INPUT])


# -- Outputs and diff ------------------------------------------------------------------------------


def gone() -> dynamic.ReadResult:
    """What `read` answers for an object no longer in Azure: a refresh drops it, the next `up` makes it again."""
    return dynamic.ReadResult(None, {})


def inputs_of(props: dict[str, Any]) -> dict[str, Any]:
    """A resource's inputs without the pickled provider (what outputs echo back)."""
    return {k: v for k, v in props.items() if k != PROVIDER_KEY}


def is_unknown(value: Any) -> bool:
    """A value a preview does not know yet (the host hands `pulumi.output.Unknown`, or the raw sentinel)."""
    return isinstance(value, pulumi.output.Unknown) or (isinstance(value, str) and value == pulumi.runtime.rpc.UNKNOWN)


def changed_keys(olds: dict[str, Any], news: dict[str, Any], ignore: Iterable[str] = ()) -> list[str]:
    """Keys whose new input differs from the old (or is unknown), sorted; `ignore` names outputs."""
    keys = sorted((set(olds) | set(news)) - set(IGNORED_IN_DIFF) - set(ignore))
    return [k for k in keys if is_unknown(news.get(k)) or olds.get(k) != news.get(k)]


def diff_inputs(
    olds: dict[str, Any],
    news: dict[str, Any],
    *,
    replace_on: Iterable[str],
    ignore: Iterable[str] = (),
    delete_before_replace: bool = False,
) -> dynamic.DiffResult:
    """Changed inputs update in place unless they are in `replace_on`."""
    changed = changed_keys(olds, news, ignore)
    replace_set = set(replace_on)
    replaces = [k for k in changed if k in replace_set]
    return dynamic.DiffResult(
        changes=bool(changed), replaces=replaces, delete_before_replace=delete_before_replace and bool(replaces)
    )


def integral_numbers(value: Any) -> Any:
    """Pulumi hands dynamic providers every number as a float; ARM's int32 fields want `1`, not `1.0`."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: integral_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integral_numbers(v) for v in value]
    return value


def raw_json(pipeline_response, _deserialized, _headers) -> dict[str, Any]:
    """`cls` callback for SDK calls: the response body as ARM sent it (camelCase), not the model."""
    return pipeline_response.http_response.json()


# -- Polling -----------------------------------------------------------------------------------------
class SessionPolling(ARMPolling):
    """ARM long-running-operation polling paced by the session and bounded by the user's timeout.

    azure-core's own loop has no overall limit; this one waits through `AzureSession.wait_until` (so
    tests replay without sleeping and every timeout reads alike). Terminal handling stays azure-core's;
    a location poll that calls a Failed/Canceled body a 200 is caught here too.
    """

    def __init__(
        self,
        session: AzureSession,
        *,
        timeout_minutes: float,
        what: str,
        timeout_key: str,
        error_type: type[AzureOperationError] = AzureOperationError,
        deadline: float | None = None,
    ):
        super().__init__(timeout=session.poll_seconds)
        self._session = session
        self._timeout_minutes = timeout_minutes
        # One budget per operation: retries before the operation started already spent part of it.
        self._deadline = deadline
        self._what = what
        self._timeout_key = timeout_key
        self._error_type = error_type
        self.last_status_response: Any | None = None

    def request_status(self, status_link: str):
        response = super().request_status(status_link)
        # Kept to report a failure with the operation's own body.
        self.last_status_response = response.http_response
        return response

    def _advance(self) -> str:
        if not self.finished():
            self.update_status()
        return self.status()

    def _poll(self) -> None:
        self._session.wait_until(
            self._advance,
            lambda _status: self.finished(),
            timeout_minutes=self._timeout_minutes,
            deadline=self._deadline,
            what=self._what,
            timeout_key=self._timeout_key,
            describe=lambda status: f"ARM operation status {status}",
        )
        body = self.last_body()
        if isinstance(body, dict) and str(body.get("status", "")).lower() in ("failed", "canceled"):
            raise self._error_type(f"{self._what} ended {body.get('status')}: {self.last_body_text()}")
        # Already finished: the base class only checks for failure and fetches the final resource.
        super()._poll()

    def last_body(self) -> Any:
        if self.last_status_response is None:
            return None
        try:
            return self.last_status_response.json()
        except ValueError:
            return None

    def last_body_text(self) -> str:
        """The last status answer as `code: message` (or its start), for error messages."""
        body = self.last_body()
        if isinstance(body, dict):
            error = body.get("error") or {}
            if error:
                return scrub(f"{error.get('code')}: {error.get('message')}")
            return scrub(json.dumps(body, default=str))
        if self.last_status_response is not None:
            return f"HTTP {self.last_status_response.status_code} {body_excerpt(self.last_status_response)}"
        return ""


# -- Provider base -----------------------------------------------------------------------------------
class AzureProvider(dynamic.ResourceProvider):
    """The skeleton every provider here stands on; a provider states only what is its own.

    `REPLACE_ON`: inputs whose change names another Azure object (the tenant only picks the credential,
    so it is never one). `OUTPUTS`: what Azure computes, returned next to the inputs, never compared, and
    kept by an in-place update. Tests pass a session factory that replays HTTP.
    """

    REPLACE_ON: tuple[str, ...] = ()
    OUTPUTS: tuple[str, ...] = ()
    DELETE_BEFORE_REPLACE = False
    # Every failure of these ends as one clean `AzureOperationError` (errors.failing_cleanly).
    _CALLS = {"create": "creating", "read": "reading", "update": "updating", "delete": "deleting"}

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        for name, verb in AzureProvider._CALLS.items():
            if name in cls.__dict__:
                setattr(cls, name, failing_cleanly(verb, cls.__dict__[name]))

    def __init__(self, session_factory: SessionFactory | None = None):
        super().__init__()
        self._session_factory = session_factory

    def describe(self, props: dict[str, Any]) -> str:
        """The resource, as a failure message names it; providers say more."""
        return type(self).__name__.removesuffix("Provider")

    def _session(self, props: dict[str, Any]) -> AzureSession:
        return session_for(props, self._session_factory)

    @staticmethod
    def outputs_of(props: dict[str, Any], **computed: Any) -> dict[str, Any]:
        """The outputs: every input echoed back (without the pickled provider), plus what Azure computed."""
        return {**inputs_of(props), **computed}

    def kept_outputs(self, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        """The new inputs with the computed outputs of before: an update that asked nothing of Azure."""
        return self.outputs_of(news, **{k: olds.get(k) for k in self.OUTPUTS})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        return diff_inputs(
            olds,
            news,
            replace_on=self.REPLACE_ON,
            ignore=self.OUTPUTS,
            delete_before_replace=self.DELETE_BEFORE_REPLACE,
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        # Anything that reaches Azure replaces (REPLACE_ON); providers with in-place calls override this.
        return dynamic.UpdateResult(self.kept_outputs(olds, news))
