"""The registry data plane (`https://<registry>.azurecr.io`) on an azure-core pipeline.

Design notes: docs/providers.md ("providers/acr_dataplane.py"); the token exchange is in acr_auth.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Literal, overload
from urllib.parse import urlsplit

from azure.core import PipelineClient
from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.core.pipeline.policies import (
    HeadersPolicy,
    HttpLoggingPolicy,
    HTTPPolicy,
    RedirectPolicy,
    UserAgentPolicy,
)
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest, HttpResponse

from providers.acr_auth import (
    SCOPE_OPTION,
    AcrDataPlaneError,
    AcrTokenPolicy,
    RegistryTokens,
    acr_error_text,
    delete_scope,
    metadata_scope,
    pull_scope,
    push_scope,
)
from providers.base import RETRY_SETTINGS, AzureSession, retry_policy
from providers.errors import UnparsableAnswerError, fault_text, json_answer, required, scrub

STREAMING_ARTIFACT_TYPE = "application/vnd.azure.artifact.streaming.v1"
STREAMING_CONVERSION = {"conversionFormat": "overlaybd", "conversionVersion": "v1"}

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
_INDEX_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
_MANIFEST_ACCEPT = ", ".join((OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST))

# `Link: </v2/...?last=...&n=...>; rel="next"`: the next page of a list (OCI distribution spec).
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
# A list that keeps naming a next page is cut off here rather than followed forever.
MAX_PAGES = 100

# What azure-core's RetryPolicy retries; such a status reaching us means the retries ran out.
_RETRIED_STATUSES = (408, 429, 500, 502, 503, 504)


def repository_and_tag(target: str) -> tuple[str, str]:
    """`largeimage/test:v1` -> (`largeimage/test`, `v1`): a resource's `target` as the tag API names it."""
    repository, _, tag = target.rpartition(":")
    return repository, tag


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
        self._tokens = RegistryTokens(login_server, session, token_pipeline)
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
        """The streaming artifacts (OCI referrers) of an image; None when the image itself is gone.

        A long list comes in pages: each names the next in `Link: <...>; rel="next"`, which is
        followed as `az acr` follows it for tags and repositories.
        """
        what = f"listing the streaming referrers of {repository}@{digest}"
        path: str | None = f"/v2/{repository}/referrers/{digest}"
        params: dict[str, str] | None = {"artifactType": STREAMING_ARTIFACT_TYPE}
        found: list[dict[str, Any]] = []
        pages = 0
        while path is not None:
            pages += 1
            if pages > MAX_PAGES:
                raise AcrDataPlaneError(f"{what} on {self.login_server}: more than {MAX_PAGES} pages")
            response = self._send("GET", path, pull_scope(repository), what, params=params, missing_ok=pages == 1)
            if response is None:
                return None
            found.extend(self._streaming_entries(self._json_object(response, what), what))
            path, params = self._next_page(response, what), None
        return found

    def _streaming_entries(self, index: dict[str, Any], what: str) -> list[dict[str, Any]]:
        manifests = index.get("manifests") or []
        if not isinstance(manifests, list):
            raise UnparsableAnswerError(f"{what} on {self.login_server}: `manifests` is not a list")
        found = []
        # A registry that ignored the filter says so by leaving out OCI-Filters-Applied: filter here too.
        for entry in manifests:
            if isinstance(entry, dict) and entry.get("artifactType") == STREAMING_ARTIFACT_TYPE:
                required(entry, ("digest",), what, self.login_server)
                found.append(entry)
        return found

    def _next_page(self, response: HttpResponse, what: str) -> str | None:
        """The path (with its query) of the page a `Link: <...>; rel="next"` header names, or None."""
        match = _NEXT_LINK.search(response.headers.get("Link") or "")
        if match is None:
            return None
        link = urlsplit(match.group(1))
        if link.netloc and link.netloc.lower() != self.login_server.lower():
            raise AcrDataPlaneError(f"{what} on {self.login_server}: the next page is on another host ({link.netloc})")
        return link.path + (f"?{link.query}" if link.query else "")

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
            once=True,
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
        once: bool = ...,
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
        once: bool = ...,
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
        once: bool = False,
    ) -> HttpResponse | None:
        """One call; `once` sends it a single time (azure-core would repeat a POST after a 5xx)."""
        request = HttpRequest(method, f"https://{self.login_server}{path}", json=body, headers=headers, params=params)
        options: dict[str, Any] = {SCOPE_OPTION: scope, **({"retry_total": 0} if once else {})}
        try:
            response = self._pipeline.send_request(request, **options)
        except ClientAuthenticationError as err:
            raise AcrDataPlaneError(
                f"{what} on {self.login_server}: could not get an AAD token ({fault_text(err)})"
            ) from None
        except AzureError as err:
            retries = 0 if once else RETRY_SETTINGS["retry_total"]
            raise AcrDataPlaneError(
                f"{what} on {self.login_server}: no answer after {retries} retries ({fault_text(err)})"
            ) from None
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
