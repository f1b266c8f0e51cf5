"""Error text for every provider: Azure's own words, scrubbed of credentials, and the exceptions raised.

Messages name the operation and where it ran; nothing that looks like a token, password or SAS
signature reaches a message, a log or Pulumi state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpResponse

T = TypeVar("T")


class AzureOperationError(Exception):
    """An Azure operation ended in a state other than success; the message carries Azure's own words."""


class WaitTimeoutError(AzureOperationError):
    """A wait ran out of time; says what was still running and which config key raises the limit."""


EXCERPT_LIMIT = 500
# What must never reach a message, a log or Pulumi state, even when a proxy echoes the request back:
# bearer tokens, JWTs, token/password fields in JSON or forms, SAS signatures.
_SECRETS = (
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[REDACTED]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), "[REDACTED-JWT]"),
    (
        re.compile(
            r"(?i)([\"']?(?:access_token|refresh_token|id_token|password|passwd|secret|client_secret|"
            r"authorization|token)[\"']?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\s&,;}]+)"
        ),
        r"\1[REDACTED]",
    ),
    (re.compile(r"(?i)([?&]sig=)[^&\s\"']+"), r"\1[REDACTED]"),
)


def scrub(text: str, limit: int = EXCERPT_LIMIT) -> str:
    """`text` with credentials masked, cut to `limit` characters (marked when cut)."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more characters]"


def body_excerpt(response: HttpResponse, limit: int = EXCERPT_LIMIT) -> str:
    """The start of a response body that is not the JSON the caller expected, scrubbed of credentials."""
    try:
        text = response.text() or ""
    except (ValueError, UnicodeDecodeError):
        text = ""
    return scrub(text, limit) or f"HTTP {response.status_code}"


class UnparsableAnswerError(AzureOperationError):
    """Azure answered, but not with the JSON the operation expects."""


def json_answer(response: HttpResponse, what: str, where: str) -> Any:
    """The response body as JSON, or an error naming the operation and the registry/cluster asked."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        raise UnparsableAnswerError(
            f"{what} on {where}: the answer (HTTP {response.status_code}) is not JSON: {body_excerpt(response)}"
        ) from None


def required(document: Any, path: tuple[str, ...], what: str, where: str) -> Any:
    """`document[path[0]][path[1]]...`, or an error naming the missing key, the operation and where."""
    value = document
    for depth, key in enumerate(path):
        if not isinstance(value, dict) or value.get(key) is None:
            shown = scrub(json.dumps(document, default=str))
            raise UnparsableAnswerError(f"{what} on {where}: the answer has no {'.'.join(path[: depth + 1])}: {shown}")
        value = value[key]
    return value


def arm_error_text(response: HttpResponse) -> str:
    """ARM's `{"error": {code, message}}` as `code: message`, else the body's start."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return body_excerpt(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return scrub(f"{error.get('code')}: {error.get('message')}")
    return scrub(json.dumps(body))


def azure_error_text(error: HttpResponseError) -> str:
    """Azure's own code and message of an SDK error, from the response body when ARM sent one."""
    odata = getattr(error, "error", None)
    code = getattr(odata, "code", None)
    message = getattr(odata, "message", None)
    if code and message:
        return scrub(f"{code}: {message}")
    return scrub(error.message or str(error))


def azure_call(what: str, call: Callable[[], T], *, missing_ok: bool = False) -> T | None:
    """`call()` (an SDK request), failing with `<what> failed: <Azure's code: message>`.

    A 404 is None when `missing_ok` (reading or deleting what may already be gone).
    """
    try:
        return call()
    except HttpResponseError as error:
        if missing_ok and isinstance(error, ResourceNotFoundError):
            return None
        raise AzureOperationError(f"{what} failed: {azure_error_text(error)}") from error


def retry_after_seconds(error: HttpResponseError) -> float | None:
    response = getattr(error, "response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        # Retry-After may also be an HTTP date; ARM uses seconds, so anything else falls back to backoff.
        return None
