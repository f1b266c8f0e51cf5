"""Replays recorded (or constructed) Azure HTTP interactions through azure-core, with no network.

Recordings live in `tests/fixtures/azure-http/` (copied from the Azure CLI's own test recordings, see
the README there). A request is answered by the first unused interaction with the same method and
URL (query parameters compared without `api-version` and the signature parameters of ARM polling
URLs); a request nothing answers fails the test with the request line, so a provider that calls an
unexpected endpoint cannot pass. Constructed interactions (faults, states no recording has) are built
with `constructed(...)` and can be mixed in front of recorded ones. `sleep` only records delays (and
refuses what `time.sleep` refuses). A `Fault` replaces every answer from the n-th request on.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import yaml
from azure.core.exceptions import ServiceResponseError
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


@dataclass(frozen=True)
class Fault:
    """What a faulty network or service answers instead: `answer(request, the answer it replaces or None)`."""

    name: str
    answer: Callable[[SentRequest, Interaction | None], Interaction]


def _echo(request: SentRequest) -> str:
    # Proxies and gateways echo the request, headers included: the credentials must still not leak.
    headers = "\n".join(f"{k}: {v}" for k, v in request.headers.items())
    return f"{request.method} {request.url}\n{headers}"


def _kept(original: Interaction | None) -> tuple[int, dict[str, str]]:
    """The replaced answer's status and headers (a Location still leads on), else a plain 200."""
    if original is None:
        return 200, {}
    headers = {k: v for k, v in original.response_headers.items() if k.lower() != "content-type"}
    return original.status, headers


def _wrong_types(body: Any) -> Any:
    """Every field of an object of another JSON type than expected."""
    if not isinstance(body, dict):
        return {"unexpected": body}
    swapped = {dict: "x", list: "x", str: {"x": 1}, bool: "x", int: "x", float: "x", type(None): ["x"]}
    return {k: swapped.get(type(v)) for k, v in body.items()}


def _retry_after(value: str, status: int) -> Callable[[SentRequest, Interaction | None], Interaction]:
    def answer(request: SentRequest, _original: Interaction | None) -> Interaction:
        body = {"error": {"code": "ServerBusy", "message": _echo(request)}}
        return constructed(request.method, request.url, status, body, {"Retry-After": value})

    return answer


def _html(request: SentRequest, original: Interaction | None) -> Interaction:
    status, headers = _kept(original)
    page = f"<html><body><h1>Bad gateway</h1><pre>{_echo(request)}</pre></body></html>"
    return constructed(request.method, request.url, status, page, {**headers, "content-type": "text/html"})


def _garbled(request: SentRequest, original: Interaction | None) -> Interaction:
    status, headers = _kept(original)
    body = '{"properties": {"status": "Succ'
    return constructed(request.method, request.url, status, body, {**headers, "content-type": "application/json"})


def _list(request: SentRequest, original: Interaction | None) -> Interaction:
    status, headers = _kept(original)
    return constructed(request.method, request.url, status, ["unexpected", {"echo": _echo(request)}], headers)


def _wrong_typed(request: SentRequest, original: Interaction | None) -> Interaction:
    status, headers = _kept(original)
    body = _wrong_types(original.response_body if original is not None else None)
    return constructed(request.method, request.url, status, body, headers)


def _reset(request: SentRequest, _original: Interaction | None) -> Interaction:
    # requests names the URL in its connection errors; a SAS URL's signature must not reach a message.
    error = ServiceResponseError(f"('Connection aborted.', ConnectionResetError(104, 'reset')) for {request.url}")
    return constructed(request.method, request.url, error=error)


FOREIGN_HOST = "collector.example"


def _elsewhere(request: SentRequest, _original: Interaction | None) -> Interaction:
    # An accepted operation to be polled on another host: nothing may send it a token.
    url = f"https://{FOREIGN_HOST}/operations/1"
    headers = {"Location": url, "Azure-AsyncOperation": url}
    return constructed(request.method, request.url, 202, None, headers)


FAULTS = (
    Fault("connection-reset", _reset),
    Fault("html-body", _html),
    Fault("garbled-json", _garbled),
    Fault("json-list", _list),
    Fault("json-wrong-types", _wrong_typed),
    Fault("retry-after-garbage", _retry_after("soon, maybe", 503)),
    Fault("retry-after-negative", _retry_after("-30", 429)),
    Fault("retry-after-nan", _retry_after("NaN", 503)),
    Fault("location-elsewhere", _elsewhere),
)


@dataclass
class SentRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: Any
    answered_by: str


class ReplayTransport(HttpTransport):
    def __init__(self, interactions: list[Interaction], fault: Fault | None = None, fault_from: int = 0):
        self.interactions = list(interactions)
        self.sent: list[SentRequest] = []
        self.sleeps: list[float] = []
        # From request number `fault_from` (0-based) on, `fault` answers instead.
        self.fault = fault
        self.fault_from = fault_from

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
        check_sleep(duration)
        self.sleeps.append(duration)

    def send(self, request, **kwargs):
        method, url = request.method, request.url
        interaction = next((i for i in self.interactions if not i.used and i.matches(method, url)), None)
        body = _request_body(request)
        if interaction is not None:
            interaction.used = True
        if self.fault is not None and len(self.sent) >= self.fault_from:
            sent = SentRequest(method, url, dict(request.headers), body, f"fault {self.fault.name}")
            interaction = self.fault.answer(sent, interaction)
        if interaction is None:
            raise AssertionError(f"no recorded or constructed interaction answers {method} {url} (body {body!r})")
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


def check_sleep(seconds: float) -> None:
    """What `time.sleep` refuses, refused here too (a fake that slept NaN would hide the bug)."""
    if not isinstance(seconds, (int, float)) or math.isnan(seconds) or seconds < 0:
        raise ValueError(f"sleep length must be a non-negative number, got {seconds!r}")


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
