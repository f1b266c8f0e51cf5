"""Replays recorded (or constructed) Azure HTTP interactions through azure-core, with no network.

Recordings live in `tests/fixtures/azure-http/` (copied from the Azure CLI's own test recordings, see
the README there). A request is answered by the first unused interaction with the same method and
URL (query parameters compared without `api-version` and the signature parameters of ARM polling
URLs); a request nothing answers fails the test with the request line, so a provider that calls an
unexpected endpoint cannot pass. Constructed interactions (faults, states no recording has) are built
with `constructed(...)` and can be mixed in front of recorded ones. `sleep` only records delays.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import yaml
from azure.core.pipeline.transport import HttpTransport
from azure.core.pipeline.transport._requests_basic import RequestsTransportResponse

FIXTURES = Path(__file__).parent / "fixtures" / "azure-http"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
_VOLATILE_QUERY = {"api-version", "t", "c", "s", "h"}


@dataclass
class Interaction:
    method: str
    uri: str
    status: int = 200
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: Any = None
    request_body: Any = None
    raise_error: BaseException | None = None  # e.g. ServiceResponseError for a dropped connection
    origin: str = "constructed"  # "<file>#<index>" for recorded interactions
    used: bool = False

    def matches(self, method: str, url: str) -> bool:
        return self.method.upper() == method.upper() and _url_key(self.uri) == _url_key(url)


def _url_key(url: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    parts = urlsplit(url)
    query = tuple(sorted((k, v) for k, v in parse_qsl(parts.query) if k not in _VOLATILE_QUERY))
    return parts.netloc.lower(), parts.path.lower().rstrip("/") or "/", query


def recorded(file_name: str, indices: list[int] | None = None) -> list[Interaction]:
    """Interactions of one recording (all, or the given indices in the given order)."""
    data = yaml.safe_load((FIXTURES / file_name).read_text())
    items = data["interactions"]
    chosen = range(len(items)) if indices is None else indices
    return [
        Interaction(
            method=items[i]["method"],
            uri=items[i]["uri"],
            status=items[i]["status"],
            response_headers=dict(items[i].get("response_headers") or {}),
            response_body=items[i].get("response_body"),
            request_body=items[i].get("request_body"),
            origin=f"{file_name}#{i}",
        )
        for i in chosen
    ]


def constructed(
    method: str,
    uri: str,
    status: int = 200,
    body: Any = None,
    headers: dict[str, str] | None = None,
    error: BaseException | None = None,
) -> Interaction:
    return Interaction(method, uri, status, dict(headers or {}), body, raise_error=error)


@dataclass
class SentRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: Any
    answered_by: str


class ReplayTransport(HttpTransport):
    def __init__(self, interactions: list[Interaction]):
        self.interactions = list(interactions)
        self.sent: list[SentRequest] = []
        self.sleeps: list[float] = []

    # HttpTransport protocol ---------------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *args):
        return None

    def open(self):
        return None

    def close(self):
        return None

    def sleep(self, duration: float) -> None:
        self.sleeps.append(duration)

    def send(self, request, **kwargs):
        method, url = request.method, request.url
        interaction = next((i for i in self.interactions if not i.used and i.matches(method, url)), None)
        body = _request_body(request)
        if interaction is None:
            raise AssertionError(f"no recorded or constructed interaction answers {method} {url} (body {body!r})")
        interaction.used = True
        self.sent.append(SentRequest(method, url, dict(request.headers), body, interaction.origin))
        if interaction.raise_error is not None:
            raise interaction.raise_error
        response = requests.Response()
        response.status_code = interaction.status
        response.url = url
        response.headers.update(interaction.response_headers)
        payload = interaction.response_body
        if payload is None or payload == "":
            content = b""
        elif isinstance(payload, (dict, list)):
            content = json.dumps(payload).encode()
            response.headers.setdefault("content-type", "application/json; charset=utf-8")
        else:
            content = str(payload).encode()
        # A readable raw stream, as requests has after a real socket read.
        response.raw = io.BytesIO(content)
        response.reason = "OK" if interaction.status < 400 else "Error"
        response.encoding = "utf-8"
        if hasattr(request, "content"):  # azure.core.rest.HttpRequest (the SDKs' request type)
            from azure.core.rest._requests_basic import RestRequestsTransportResponse

            result = RestRequestsTransportResponse(request=request, internal_response=response)
            if not kwargs.get("stream"):
                result.read()
            return result
        return RequestsTransportResponse(request, response)

    # Helpers for assertions ---------------------------------------------------------------------
    def unused(self) -> list[Interaction]:
        return [i for i in self.interactions if not i.used]

    def requests_to(self, fragment: str) -> list[SentRequest]:
        return [r for r in self.sent if fragment in r.url]


def _request_body(request) -> Any:
    raw = getattr(request, "content", None)
    if raw is None:
        raw = getattr(request, "data", None) or getattr(request, "body", None)
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw
