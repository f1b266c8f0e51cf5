"""Mock outputs for the registry side (login server, ids, digests), and `FakeRegistry`: a registry with
state that the registry providers can run against (config-edit replays, tests/stacks/test_config_edits.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from azure.core.pipeline.transport import HttpTransport
from azure.core.pipeline.transport._requests_basic import RequestsTransportResponse
from azure.core.rest._requests_basic import RestRequestsTransportResponse

from offline.fakes import call_fake, resource_fake
from offline.fakes.azure_base import SUBSCRIPTION
from providers.acr_dataplane import STREAMING_ARTIFACT_TYPE
from providers.acr_import import import_source


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
    return {
        "name": rg,
        "location": "westeurope",
        "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{rg}",
        "properties": {"provisioningState": "Succeeded"},
    }


@resource_fake("pulumi-python:dynamic/acr:ImportedImage")
def imported_image(name, inputs):
    # What the tag would point to: one digest per source image, as FakeRegistry imports it.
    return {"digest": imported_digest(inputs["source"]), "ref": f"{inputs['loginServer']}/{inputs['target']}"}


@resource_fake("pulumi-python:dynamic/acr:ExistingImage")
def existing_image(name, inputs):
    # Read, not written: a digest stable per target (no source to derive one from).
    return {"digest": fake_digest(f"existing:{inputs['target']}"), "ref": f"{inputs['loginServer']}/{inputs['target']}"}


@resource_fake("pulumi-python:dynamic/acr:StreamingArtifact")
def streaming_artifact(name, inputs):
    return {
        "streamingArtifactDigest": fake_digest(f"streaming:{inputs['digest']}"),
        "streamingArtifactSubject": inputs["digest"],
        "operationId": name,
        "status": "Succeeded",
        "reused": False,
    }


@resource_fake("pulumi-python:dynamic/acr:RepositoryStreaming")
def repository_streaming(name, inputs):
    return {}


# -- A registry with state, answering the HTTP the registry providers send ----------------------------
def imported_digest(source: str) -> str:
    """What an import of `source` points its tag at: one digest per image, however the source is spelled."""
    fields = import_source(source)
    return fake_digest(f"image:{fields['registryUri']}/{fields['sourceImage']}")


_TAG = re.compile(r"^/acr/v1/(?P<repo>.+)/_tags/(?P<tag>[^/]+)$")
_REFERRERS = re.compile(r"^/v2/(?P<repo>.+)/referrers/(?P<digest>[^/]+)$")
_CONVERSION = re.compile(r"^/acr/v1/(?P<repo>.+)/_streaming/(?P<digest>sha256:[0-9a-f]+)$")
_OPERATION = re.compile(r"^/acr/v1/(?P<repo>.+)/_operations/(?P<id>[^/:]+)$")
_MANIFEST = re.compile(r"^/v2/(?P<repo>.+)/manifests/(?P<digest>sha256:[0-9a-f]+)$")


@dataclass
class FakeRegistry(HttpTransport):
    """One registry's tags, manifests and streaming artifacts, behind ARM `importImage` and its data plane.

    Imports and conversions finish at once; anything the providers ask that this fake does not know
    fails loudly (AssertionError), so a provider calling an unexpected endpoint cannot pass.
    """

    login_server: str
    # Sources that are one image under another reference (a mirror), by source: the digest is the other's.
    same_image: dict[str, str] = field(default_factory=dict)
    tags: dict[tuple[str, str], str] = field(default_factory=dict)  # (repository, tag) -> digest
    manifests: set[tuple[str, str]] = field(default_factory=set)  # (repository, digest), tagged or not
    artifacts: dict[tuple[str, str], str] = field(default_factory=dict)  # (repository, subject) -> artifact
    conversions: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def streaming_artifact(self, repository: str, digest: str) -> str | None:
        return self.artifacts.get((repository, digest))

    # HttpTransport protocol -------------------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *args):
        return None

    def open(self):
        return None

    def close(self):
        return None

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        self.calls.append(f"{request.method} {url.path}")
        if url.netloc == "management.azure.com":
            status, body = self._arm(request.method, url.path, _body(request))
        elif url.netloc == self.login_server:
            status, body, headers = self._auth(request.method, url.path)
            if status == 0:
                status, body = self._data_plane(request.method, unquote(url.path))
            return _response(request, status, body, headers, kwargs.get("stream", False))
        else:
            raise AssertionError(f"the fake registry {self.login_server} does not answer {request.url}")
        return _response(request, status, body, {}, kwargs.get("stream", False))

    # Endpoints ---------------------------------------------------------------------------------------
    def _arm(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        if method != "POST" or not path.endswith("/importImage"):
            raise AssertionError(f"the fake registry answers no ARM call {method} {path}")
        source = body["source"]
        reference = f"{source['registryUri']}/{source['sourceImage']}"
        digest = imported_digest(self.same_image.get(reference, reference))
        for target in body["targetTags"]:
            repository, tag = target.rsplit(":", 1)
            self.tags[(repository, tag)] = digest
            self.manifests.add((repository, digest))
        return 200, None

    def _auth(self, method: str, path: str) -> tuple[int, Any, dict[str, str]]:
        if path == "/v2/":
            challenge = f'Bearer realm="https://{self.login_server}/oauth2/token",service="{self.login_server}"'
            return 401, {"errors": [{"code": "UNAUTHORIZED"}]}, {"www-authenticate": challenge}
        if path == "/oauth2/exchange":
            return 200, {"refresh_token": "REDACTED"}, {}
        if path == "/oauth2/token":
            return 200, {"access_token": "REDACTED"}, {}
        return 0, None, {}

    def _data_plane(self, method: str, path: str) -> tuple[int, Any]:
        for pattern, handler in (
            (_TAG, self._tag),
            (_REFERRERS, self._referrers),
            (_CONVERSION, self._conversion),
            (_OPERATION, self._operation),
            (_MANIFEST, self._delete_manifest),
        ):
            match = pattern.match(path)
            if match:
                return handler(method, **match.groupdict())
        raise AssertionError(f"the fake registry answers no data-plane call {method} {path}")

    def _tag(self, method: str, repo: str, tag: str) -> tuple[int, Any]:
        digest = self.tags.get((repo, tag))
        if digest is None:
            return 404, {"errors": [{"code": "TAG_UNKNOWN", "message": "the specified tag does not exist"}]}
        if method == "DELETE":
            del self.tags[(repo, tag)]
            return 202, None
        return 200, {"registry": self.login_server, "imageName": repo, "tag": {"name": tag, "digest": digest}}

    def _referrers(self, method: str, repo: str, digest: str) -> tuple[int, Any]:
        if (repo, digest) not in self.manifests:
            return 404, {"errors": [{"code": "MANIFEST_UNKNOWN"}]}
        artifact = self.artifacts.get((repo, digest))
        entries = [{"digest": artifact, "artifactType": STREAMING_ARTIFACT_TYPE}] if artifact else []
        return 200, {"schemaVersion": 2, "manifests": entries}

    def _conversion(self, method: str, repo: str, digest: str) -> tuple[int, Any]:
        if method == "GET":
            known = self.conversions.get((repo, digest))
            return (200, known) if known else (404, {"errors": [{"code": "NOT_FOUND"}]})
        operation = {"id": f"op-{len(self.conversions) + 1}", "status": "Succeeded"}
        self.conversions[(repo, digest)] = operation
        self.artifacts[(repo, digest)] = fake_digest(f"streaming:{digest}")
        return 202, operation

    def _operation(self, method: str, repo: str, id: str) -> tuple[int, Any]:
        known = next((op for op in self.conversions.values() if op["id"] == id), None)
        return (200, known) if known else (404, {"errors": [{"code": "NOT_FOUND"}]})

    def _delete_manifest(self, method: str, repo: str, digest: str) -> tuple[int, Any]:
        """Deleting a streaming artifact's manifest drops it from its subject; an image's takes its tags too."""
        if method != "DELETE":
            raise AssertionError(f"the fake registry answers no manifest read {method} {repo}@{digest}")
        subjects = [subject for (r, subject), artifact in self.artifacts.items() if r == repo and artifact == digest]
        for subject in subjects:
            del self.artifacts[(repo, subject)]
        image = (repo, digest) in self.manifests
        if image:
            self.manifests.discard((repo, digest))
            self.tags = {key: d for key, d in self.tags.items() if key != (repo, key[1]) or d != digest}
            self.artifacts.pop((repo, digest), None)
        return (202, None) if subjects or image else (404, {"errors": [{"code": "MANIFEST_UNKNOWN"}]})


def _body(request) -> dict[str, Any]:
    raw = getattr(request, "content", None) or getattr(request, "data", None) or b"{}"
    return json.loads(raw.decode() if isinstance(raw, bytes) else raw)


def _response(request, status: int, body: Any, headers: dict[str, str], stream: bool):
    response = requests.Response()
    response.status_code = status
    response.url = request.url
    response.headers.update(headers)
    content = b"" if body is None else json.dumps(body).encode()
    if body is not None:
        response.headers["content-type"] = "application/json; charset=utf-8"
    response.raw = io.BytesIO(content)
    response.reason = "OK" if status < 400 else "Error"
    response.encoding = "utf-8"
    if hasattr(request, "content"):  # azure.core.rest.HttpRequest (the SDKs' request type)
        result = RestRequestsTransportResponse(request=request, internal_response=response)
        if not stream:
            result.read()
        return result
    return RequestsTransportResponse(request, response)
