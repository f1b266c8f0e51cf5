"""ACR's AAD token exchange for the data-plane client: challenge, exchange, scoped tokens, auth policy.

`GET /v2/` names the realm, `POST /oauth2/exchange` trades the stack tenant's AAD token for a refresh
token, `POST /oauth2/token` trades that for an access token per `repository:<repo>:<actions>` scope.
Both are cached per client (docs/providers.md, "providers/acr_dataplane.py").
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from azure.core import PipelineClient
from azure.core.exceptions import AzureError
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy
from azure.core.rest import HttpRequest, HttpResponse

from providers.base import ARM_SCOPE, RETRY_SETTINGS, AzureSession
from providers.errors import (
    AzureOperationError,
    UnparsableAnswerError,
    body_excerpt,
    fault_text,
    json_answer,
    scrub,
)

# The scope option travels in the pipeline context from the method that knows what it needs to the
# auth policy; it must not reach the transport, which would pass it on to `requests`.
SCOPE_OPTION = "acr_scope"
# Tokens whose expiry cannot be read are reused for this long only (ACR's own are valid far longer).
_OPAQUE_TOKEN_SECONDS = 300
# Refresh a token this long before it expires, so a request never leaves with a token about to lapse.
_EXPIRY_MARGIN_SECONDS = 120
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class AcrDataPlaneError(AzureOperationError):
    """A data-plane call failed; carries ACR's own error codes and messages."""

    def __init__(self, message: str, status_code: int | None = None, codes: tuple[str, ...] = ()):
        super().__init__(message)
        self.status_code = status_code
        self.codes = codes

    @property
    def unanswered(self) -> bool:
        """No answer, or a 408/429/5xx: the request may or may not have been acted on."""
        return self.status_code is None or self.status_code in (408, 429, 500, 502, 503, 504)


def pull_scope(repository: str) -> str:
    return f"repository:{repository}:pull"


def push_scope(repository: str) -> str:
    return f"repository:{repository}:pull,push"


def metadata_scope(repository: str) -> str:
    return f"repository:{repository}:metadata_read"


def delete_scope(repository: str) -> str:
    return f"repository:{repository}:delete"


def _jwt_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT, or None for anything else (tests use opaque placeholders)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return float(payload["exp"])
    except (ValueError, KeyError, TypeError):
        return None


@dataclass
class _CachedToken:
    value: str
    expires_at: float  # epoch seconds

    def fresh(self) -> bool:
        return time.time() < self.expires_at - _EXPIRY_MARGIN_SECONDS


def acr_error_text(response: HttpResponse) -> tuple[str, tuple[str, ...]]:
    """ACR's `{"errors": [{code, message, detail}]}` as one line, plus the codes."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return body_excerpt(response), ()
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors or not isinstance(errors, list):
        return scrub(json.dumps(body)), ()
    lines, codes = [], []
    for error in errors:
        error = error if isinstance(error, dict) else {"message": error}
        code = error.get("code") or "UNKNOWN"
        codes.append(code)
        detail = error.get("detail")
        lines.append(f"{code}: {error.get('message')}" + (f" ({json.dumps(detail)})" if detail else ""))
    return scrub("; ".join(lines)), tuple(codes)


class RegistryTokens:
    """The challenge / exchange / token flow, with its results cached per client."""

    def __init__(self, login_server: str, session: AzureSession, pipeline: PipelineClient):
        self._login_server = login_server
        self._session = session
        self._pipeline = pipeline  # retries but no auth: these calls are how auth is obtained
        self._lock = threading.Lock()
        self._realm: str | None = None
        self._service: str | None = None
        self._refresh: _CachedToken | None = None
        self._access: dict[str, _CachedToken] = {}

    def access_token(self, scope: str) -> str:
        with self._lock:
            cached = self._access.get(scope)
            if cached is None or not cached.fresh():
                cached = self._scoped_token(scope)
                self._access[scope] = cached
            return cached.value

    def invalidate(self) -> None:
        """Forget every token (ACR answered 401 to one of them: revoked, or the role changed)."""
        with self._lock:
            self._refresh = None
            self._access.clear()

    # The three steps ---------------------------------------------------------------------------
    def _challenge(self) -> None:
        if self._realm is not None:
            return
        response = self._request("GET", f"https://{self._login_server}/v2/", None, "the registry challenge")
        header = response.headers.get("www-authenticate", "")
        if response.status_code != 401 or not header.lower().startswith("bearer"):
            raise AcrDataPlaneError(
                f"{self._login_server} did not answer `GET /v2/` with a Bearer-token challenge (HTTP "
                f"{response.status_code}, www-authenticate {header!r}); is this an Azure container registry?",
                response.status_code,
            )
        params = dict(_CHALLENGE_PARAM.findall(header))
        self._realm = params.get("realm") or f"https://{self._login_server}/oauth2/token"
        self._service = params.get("service") or self._login_server

    def _refresh_token(self) -> str:
        if self._refresh is not None and self._refresh.fresh():
            return self._refresh.value
        self._challenge()
        aad = self._session.credential.get_token(ARM_SCOPE, tenant_id=self._session.tenant_id)
        form = {
            "grant_type": "access_token",
            "service": self._service,
            "tenant": self._session.tenant_id,
            "access_token": aad.token,
        }
        body = self._form(f"https://{self._login_server}/oauth2/exchange", form, "the AAD token exchange")
        value = body.get("refresh_token")
        if not value:
            raise AcrDataPlaneError(f"{self._login_server} /oauth2/exchange returned no refresh_token")
        self._refresh = _CachedToken(value, _jwt_expiry(value) or float(aad.expires_on))
        return value

    def _scoped_token(self, scope: str) -> _CachedToken:
        refresh = self._refresh_token()
        form = {"grant_type": "refresh_token", "service": self._service, "scope": scope, "refresh_token": refresh}
        assert self._realm is not None
        body = self._form(self._realm, form, f"an access token for {scope}")
        value = body.get("access_token")
        if not value:
            raise AcrDataPlaneError(f"{self._login_server} /oauth2/token returned no access_token for {scope}")
        return _CachedToken(value, _jwt_expiry(value) or time.time() + _OPAQUE_TOKEN_SECONDS)

    # Transport helpers -------------------------------------------------------------------------
    def _form(self, url: str, form: dict[str, Any], what: str) -> dict[str, Any]:
        response = self._request("POST", url, form, what)
        if response.status_code != 200:
            text, codes = acr_error_text(response)
            raise AcrDataPlaneError(
                f"{what} at {self._login_server} failed (HTTP {response.status_code}): {text}. The identity "
                "behind `az login` / OIDC needs a role on the registry that allows this (e.g. AcrPush, "
                "Contributor).",
                response.status_code,
                codes,
            )
        body = json_answer(response, what, self._login_server)
        if not isinstance(body, dict):
            raise UnparsableAnswerError(f"{what} at {self._login_server}: the answer is not a JSON object")
        return body

    def _request(self, method: str, url: str, form: dict[str, Any] | None, what: str) -> HttpResponse:
        try:
            return self._pipeline.send_request(HttpRequest(method, url, data=form))
        except AzureError as err:
            raise AcrDataPlaneError(
                f"{what} at {self._login_server}: no answer after {RETRY_SETTINGS['retry_total']} retries "
                f"({fault_text(err)})"
            ) from None


class AcrTokenPolicy(HTTPPolicy):
    """Adds the scoped ACR access token; on a 401 it starts the flow over once with fresh tokens.

    It sits after RetryPolicy so every retry is re-authorised, and it only authorises requests to the
    registry itself: a blob download redirected to storage must not carry the registry's token.
    """

    def __init__(self, tokens: RegistryTokens, login_server: str):
        super().__init__()
        self._tokens = tokens
        self._host = login_server.lower()

    def send(self, request: PipelineRequest) -> PipelineResponse:
        scope = request.context.options.pop(SCOPE_OPTION, None) or request.context.get(SCOPE_OPTION)
        request.context[SCOPE_OPTION] = scope
        host = urlsplit(request.http_request.url).netloc.lower()
        if scope is None or host != self._host:
            request.http_request.headers.pop("Authorization", None)
            return self.next.send(request)
        request.http_request.headers["Authorization"] = f"Bearer {self._tokens.access_token(scope)}"
        response = self.next.send(request)
        if response.http_response.status_code == 401:
            self._tokens.invalidate()
            request.http_request.headers["Authorization"] = f"Bearer {self._tokens.access_token(scope)}"
            response = self.next.send(request)
        return response
