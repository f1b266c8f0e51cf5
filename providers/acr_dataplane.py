"""The registry data plane (`https://<registry>.azurecr.io`) on an azure-core pipeline.

Design notes: docs/providers.md ("providers/acr_dataplane.py").
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal, overload
from urllib.parse import urlsplit

from azure.core import PipelineClient
from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import (
    HeadersPolicy,
    HttpLoggingPolicy,
    HTTPPolicy,
    RedirectPolicy,
    UserAgentPolicy,
)
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest, HttpResponse

from providers.base import (
    ARM_SCOPE,
    RETRY_SETTINGS,
    AzureOperationError,
    AzureSession,
    UnparsableAnswerError,
    body_excerpt,
    json_answer,
    required,
    retry_policy,
    scrub,
)

STREAMING_ARTIFACT_TYPE = "application/vnd.azure.artifact.streaming.v1"
STREAMING_CONVERSION = {"conversionFormat": "overlaybd", "conversionVersion": "v1"}

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
_INDEX_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
_MANIFEST_ACCEPT = ", ".join((OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST))

# The scope option travels in the pipeline context from the method that knows what it needs to the
# auth policy; it must not reach the transport, which would pass it on to `requests`.
_SCOPE_OPTION = "acr_scope"
# Tokens whose expiry cannot be read are reused for this long only (ACR's own are valid far longer).
_OPAQUE_TOKEN_SECONDS = 300
# Refresh a token this long before it expires, so a request never leaves with a token about to lapse.
_EXPIRY_MARGIN_SECONDS = 120
# What azure-core's RetryPolicy retries; such a status reaching us means the retries ran out.
_RETRIED_STATUSES = (408, 429, 500, 502, 503, 504)
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class AcrDataPlaneError(AzureOperationError):
    """A data-plane call failed; carries ACR's own error codes and messages."""

    def __init__(self, message: str, status_code: int | None = None, codes: tuple[str, ...] = ()):
        super().__init__(message)
        self.status_code = status_code
        self.codes = codes


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


class _RegistryTokens:
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
                f"{self._login_server} did not answer `GET /v2/` with a Bearer challenge (HTTP "
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
                f"({type(err).__name__}: {err})"
            ) from err


class AcrTokenPolicy(HTTPPolicy):
    """Adds the scoped ACR access token; on a 401 it starts the flow over once with fresh tokens.

    It sits after RetryPolicy so every retry is re-authorised, and it only authorises requests to the
    registry itself: a blob download redirected to storage must not carry the registry's token.
    """

    def __init__(self, tokens: _RegistryTokens, login_server: str):
        super().__init__()
        self._tokens = tokens
        self._host = login_server.lower()

    def send(self, request: PipelineRequest) -> PipelineResponse:
        scope = request.context.options.pop(_SCOPE_OPTION, None) or request.context.get(_SCOPE_OPTION)
        request.context[_SCOPE_OPTION] = scope
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


class AcrDataPlaneClient:
    """Tags, manifests, referrers and streaming conversions of one registry."""

    def __init__(self, login_server: str, session: AzureSession):
        self.login_server = login_server
        # One transport for both pipelines: one connection pool, and tests replay one sequence.
        transport = session.transport or RequestsTransport()

        def policies(*auth: HTTPPolicy) -> list:
            return [
                HeadersPolicy(),
                UserAgentPolicy(sdk_moniker="acr-streaming-ab"),
                RedirectPolicy(),
                retry_policy(),
                *auth,
                HttpLoggingPolicy(),
            ]

        token_pipeline: PipelineClient[HttpRequest, HttpResponse] = PipelineClient(
            f"https://{login_server}", policies=policies(), transport=transport
        )
        self._tokens = _RegistryTokens(login_server, session, token_pipeline)
        self._pipeline: PipelineClient[HttpRequest, HttpResponse] = PipelineClient(
            f"https://{login_server}",
            policies=policies(AcrTokenPolicy(self._tokens, login_server)),
            transport=transport,
        )

    # Tags --------------------------------------------------------------------------------------
    def get_tag_digest(self, repository: str, tag: str) -> str | None:
        """The manifest digest a tag points to; None when the tag (or repository) does not exist."""
        response = self._send(
            "GET",
            f"/acr/v1/{repository}/_tags/{tag}",
            metadata_scope(repository),
            f"reading tag {repository}:{tag}",
            missing_ok=True,
        )
        if response is None:
            return None
        what = f"reading tag {repository}:{tag}"
        return required(json_answer(response, what, self.login_server), ("tag", "digest"), what, self.login_server)

    def delete_tag(self, repository: str, tag: str) -> bool:
        """Untag (the manifest stays); False when the tag was already gone."""
        response = self._send(
            "DELETE",
            f"/acr/v1/{repository}/_tags/{tag}",
            delete_scope(repository),
            f"deleting tag {repository}:{tag}",
            ok=(200, 202, 204),
            missing_ok=True,
        )
        return response is not None

    # Manifests and blobs -----------------------------------------------------------------------
    def get_manifest(self, repository: str, reference: str) -> tuple[str, dict[str, Any], str]:
        """(media type, manifest JSON, manifest digest) of a tag or digest."""
        response = self._send(
            "GET",
            f"/v2/{repository}/manifests/{reference}",
            pull_scope(repository),
            f"reading manifest {repository}:{reference}",
            headers={"Accept": _MANIFEST_ACCEPT},
        )
        raw = response.content
        manifest = self._json_object(response, f"reading manifest {repository}:{reference}")
        media_type = manifest.get("mediaType") or response.headers.get("content-type", "").split(";")[0]
        digest = response.headers.get("docker-content-digest") or "sha256:" + hashlib.sha256(raw).hexdigest()
        return media_type, manifest, digest

    def amd64_child(self, repository: str, reference: str) -> str | None:
        """For an image index (multi-arch tag), the digest of its linux/amd64 manifest; None otherwise."""
        return self._platform_manifest(repository, reference)[2]

    def _platform_manifest(self, repository: str, reference: str) -> tuple[str, dict[str, Any], str | None]:
        """(media type, manifest, linux/amd64 child digest or None) of a tag or digest."""
        media_type, manifest, _ = self.get_manifest(repository, reference)
        if media_type not in _INDEX_TYPES and "manifests" not in manifest:
            return media_type, manifest, None
        entries = [m for m in manifest.get("manifests") or [] if isinstance(m, dict)]
        chosen = next(
            (
                m
                for m in entries
                if (m.get("platform") or {}).get("os") == "linux"
                and (m.get("platform") or {}).get("architecture") == "amd64"
            ),
            None,
        )
        if chosen is None:
            platforms = [
                f"{(m.get('platform') or {}).get('os')}/{(m.get('platform') or {}).get('architecture')}"
                for m in entries
            ]
            raise AcrDataPlaneError(
                f"{repository}:{reference} has no linux/amd64 image (platforms: {', '.join(platforms) or 'none'})"
            )
        child = required(chosen, ("digest",), f"reading manifest {repository}:{reference}", self.login_server)
        return media_type, manifest, child

    def get_image_config(self, repository: str, reference: str) -> dict[str, Any]:
        """The image config JSON (`config`, `rootfs`, `history` ...); linux/amd64 from an index."""
        media_type, manifest, child = self._platform_manifest(repository, reference)
        if child is not None:
            media_type, manifest, _ = self.get_manifest(repository, child)
        config_digest = (manifest.get("config") or {}).get("digest")
        if not config_digest:
            raise AcrDataPlaneError(f"{repository}:{reference} ({media_type}) has no image config")
        response = self._send(
            "GET",
            f"/v2/{repository}/blobs/{config_digest}",
            pull_scope(repository),
            f"reading config blob {repository}@{config_digest}",
        )
        return self._json_object(response, f"reading config blob {repository}@{config_digest}")

    def delete_manifest(self, repository: str, digest: str) -> bool:
        """Delete a manifest by digest (every tag on it goes too); False when it was already gone."""
        response = self._send(
            "DELETE",
            f"/v2/{repository}/manifests/{digest}",
            delete_scope(repository),
            f"deleting manifest {repository}@{digest}",
            ok=(200, 202, 204),
            missing_ok=True,
        )
        return response is not None

    # Streaming artifacts -----------------------------------------------------------------------
    def list_streaming_referrers(self, repository: str, digest: str) -> list[dict[str, Any]] | None:
        """The streaming artifacts (OCI referrers) of an image; None when the image itself is gone."""
        response = self._send(
            "GET",
            f"/v2/{repository}/referrers/{digest}",
            pull_scope(repository),
            f"listing the streaming referrers of {repository}@{digest}",
            params={"artifactType": STREAMING_ARTIFACT_TYPE},
            missing_ok=True,
        )
        if response is None:
            return None
        what = f"listing the streaming referrers of {repository}@{digest}"
        index = self._json_object(response, what)
        found = []
        # A registry that ignored the filter says so by leaving out OCI-Filters-Applied: filter here too.
        for entry in index.get("manifests") or []:
            if isinstance(entry, dict) and entry.get("artifactType") == STREAMING_ARTIFACT_TYPE:
                required(entry, ("digest",), what, self.login_server)
                found.append(entry)
        return found

    def get_conversion(self, repository: str, digest: str) -> dict[str, Any] | None:
        """The last streaming conversion of a digest (`{id, status}`); None when there never was one."""
        return self._json_or_none(
            "GET",
            f"/acr/v1/{repository}/_streaming/{digest}",
            pull_scope(repository),
            f"reading the streaming conversion of {repository}@{digest}",
        )

    def start_conversion(self, repository: str, digest: str) -> dict[str, Any]:
        """Start an overlaybd conversion; returns `{id, status}` (202, status NotStarted)."""
        response = self._send(
            "POST",
            f"/acr/v1/{repository}/_streaming/{digest}",
            push_scope(repository),
            f"starting the streaming conversion of {repository}@{digest}",
            body=STREAMING_CONVERSION,
            ok=(200, 201, 202),
        )
        what = f"starting the streaming conversion of {repository}@{digest}"
        result = self._json_object(response, what)
        result.setdefault("id", response.headers.get("operation-id"))
        required(result, ("id",), what, self.login_server)
        return result

    def get_operation(self, repository: str, operation_id: str) -> dict[str, Any] | None:
        """A streaming operation (`{status, progress, details, resource ...}`); None when unknown."""
        return self._json_or_none(
            "GET",
            f"/acr/v1/{repository}/_operations/{operation_id}",
            pull_scope(repository),
            f"reading streaming operation {operation_id} in {repository}",
        )

    def cancel_operation(self, repository: str, operation_id: str) -> dict[str, Any] | None:
        """Cancel a streaming operation; None when it no longer exists."""
        return self._json_or_none(
            "POST",
            f"/acr/v1/{repository}/_operations/{operation_id}:cancel",
            push_scope(repository),
            f"cancelling streaming operation {operation_id} in {repository}",
        )

    def get_repository_streaming(self, repository: str) -> dict[str, Any] | None:
        """`{convertPushedImages}` of a repository; None when the repository does not exist."""
        return self._json_or_none(
            "GET",
            f"/acr/v1/{repository}/_streaming",
            pull_scope(repository),
            f"reading the auto-conversion setting of {repository}",
        )

    def set_repository_streaming(self, repository: str, convert_pushed_images: bool) -> dict[str, Any]:
        """Turn auto-conversion of pushed images on or off; returns `{id, status, convertPushedImages ...}`."""
        response = self._send(
            "POST",
            f"/acr/v1/{repository}/_streaming",
            push_scope(repository),
            f"setting convertPushedImages={str(convert_pushed_images).lower()} on {repository}",
            body={"convertPushedImages": convert_pushed_images, **STREAMING_CONVERSION},
            ok=(200, 201, 202),
        )
        result = self._json_object(response, f"setting convertPushedImages on {repository}")
        result.setdefault("id", response.headers.get("operation-id"))
        return result

    # Plumbing ----------------------------------------------------------------------------------
    def _json_or_none(self, method: str, path: str, scope: str, what: str) -> dict[str, Any] | None:
        response = self._send(method, path, scope, what, missing_ok=True)
        return None if response is None else self._json_object(response, what)

    def _json_object(self, response: HttpResponse, what: str) -> dict[str, Any]:
        body = json_answer(response, what, self.login_server)
        if not isinstance(body, dict):
            raise UnparsableAnswerError(
                f"{what} on {self.login_server}: expected a JSON object, got {scrub(json.dumps(body))}"
            )
        return body

    @overload
    def _send(
        self,
        method: str,
        path: str,
        scope: str,
        what: str,
        *,
        body: Any = ...,
        headers: dict[str, str] | None = ...,
        params: dict[str, str] | None = ...,
        ok: tuple[int, ...] = ...,
        missing_ok: Literal[False] = ...,
    ) -> HttpResponse: ...

    @overload
    def _send(
        self,
        method: str,
        path: str,
        scope: str,
        what: str,
        *,
        body: Any = ...,
        headers: dict[str, str] | None = ...,
        params: dict[str, str] | None = ...,
        ok: tuple[int, ...] = ...,
        missing_ok: bool,
    ) -> HttpResponse | None: ...

    def _send(
        self,
        method: str,
        path: str,
        scope: str,
        what: str,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
        missing_ok: bool = False,
    ) -> HttpResponse | None:
        request = HttpRequest(method, f"https://{self.login_server}{path}", json=body, headers=headers, params=params)
        try:
            response = self._pipeline.send_request(request, **{_SCOPE_OPTION: scope})  # type: ignore[arg-type]
        except ClientAuthenticationError as err:
            raise AcrDataPlaneError(f"{what} on {self.login_server}: could not get an AAD token ({err})") from err
        except AzureError as err:
            raise AcrDataPlaneError(
                f"{what} on {self.login_server}: no answer after {RETRY_SETTINGS['retry_total']} retries "
                f"({type(err).__name__}: {err})"
            ) from err
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code not in ok:
            text, codes = acr_error_text(response)
            retried = ""
            if response.status_code in _RETRIED_STATUSES:
                retried = f" (still failing after azure-core retried it {RETRY_SETTINGS['retry_total']} times)"
            raise AcrDataPlaneError(
                f"{what} on {self.login_server} failed: HTTP {response.status_code}{retried}: {text}",
                response.status_code,
                codes,
            )
        return response
