"""Error text for every provider: Azure's own words, scrubbed of credentials, and the exceptions raised.

Messages name the operation and where it ran; nothing that looks like a token, password or SAS
signature reaches a message, a log or Pulumi state.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from typing import Any, TypeVar

from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpResponse

T = TypeVar("T")


class AzureOperationError(Exception):
    """An Azure operation ended in a state other than success; the message carries Azure's own words."""


class WaitTimeoutError(AzureOperationError):
    """A wait ran out of time; says what was still running and which config key raises the limit."""


EXCERPT_LIMIT = 500
# What must never reach a message, a log or Pulumi state, even when a proxy echoes the request back:
# bearer and basic credentials, JWTs, token/password/key fields in JSON, forms or connection strings,
# a dockerconfigjson `auth`, SAS signatures. A key name must start a word: `InvalidToken: the token
# expired` is an error code followed by words, not a token.
_KEY_NAMES = (
    r"access_token|refresh_token|id_token|password|passwd|secret|client_secret|authorization|token|auth"
    r"|accountkey|sharedaccesskey"
)
_SECRETS = (
    (re.compile(r"(?i)\b((?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+"), r"\1[REDACTED]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), "[REDACTED-JWT]"),
    (
        re.compile(
            rf"(?i)((?<![A-Za-z0-9_])[\"']?(?:{_KEY_NAMES})[\"']?\s*[:=]\s*)(?!\[REDACTED)(?!(?:bearer|basic)\s)"
            r"(\"[^\"]*\"|'[^']*'|[^\s&,;}]+)"
        ),
        r"\1[REDACTED]",
    ),
    # ARM answers a generated password as `{"name": ..., "value": "<the password>"}`.
    (re.compile(r"(?i)(\"value\"\s*:\s*)\"[^\"]*\""), r"\1[REDACTED]"),
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

    A 404 is None when `missing_ok` (reading or deleting what may already be gone). The SDK's own
    exception is not chained: Pulumi prints the chain, and an echoed request may hold a token.
    """
    try:
        return call()
    except HttpResponseError as error:
        if missing_ok and isinstance(error, ResourceNotFoundError):
            return None
        raise AzureOperationError(f"{what} failed: {azure_error_text(error)}") from None
    except AzureError as error:
        raise AzureOperationError(f"{what} failed: no answer ({fault_text(error)})") from None


def fault_text(error: BaseException) -> str:
    """What went wrong, scrubbed: Azure's code and message, or the exception's kind and text."""
    if isinstance(error, HttpResponseError):
        return azure_error_text(error)
    return scrub(f"{type(error).__name__}: {error}")


# What an answer of the wrong shape (JSON where a field is missing or of another type, HTML, a
# truncated body) or a connection that gives up raises in SDK and provider code alike.
FOREIGN_FAILURES = (AzureError, ValueError, LookupError, AttributeError, TypeError)


def clean(error: AzureOperationError) -> AzureOperationError:
    """`error` with its message scrubbed (no length limit: build logs are long) and no chain."""
    error.args = tuple(scrub(str(arg), limit=1_000_000) if isinstance(arg, str) else arg for arg in error.args)
    error.__cause__ = None
    error.__context__ = None
    error.__suppress_context__ = True
    return error


def failing_cleanly(verb: str, method: Callable[..., T]) -> Callable[..., T]:
    """`method` (a provider's create/read/update/delete) ending every failure as one clean error.

    Every failure names the operation and the resource (`describe(props)`, props being the method's
    last argument): an `AzureOperationError` (naming the call that failed) gets that prefix, anything
    else (a dropped connection, an answer of the wrong shape) becomes one. Scrubbed and unchained.
    """

    @functools.wraps(method)
    def wrapped(self, *args: Any) -> T:
        try:
            return method(self, *args)
        except AzureOperationError as error:
            # Inner errors name the call that failed (a tag read, a token exchange); this names the resource.
            error.args = (f"{verb} {self.describe(args[-1])}: {error}",)
            raise clean(error) from None
        except FOREIGN_FAILURES as error:
            what = f"{verb} {self.describe(args[-1])}"
            raise clean(AzureOperationError(f"{what} failed: {fault_text(error)}")) from None

    return wrapped


def sane_retry_after(value: str | None) -> float | None:
    """A `Retry-After` in seconds, or None (use the backoff) for garbage, a date, negative, NaN or infinity."""
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None


def retry_after_seconds(error: HttpResponseError) -> float | None:
    response = getattr(error, "response", None)
    return sane_retry_after(response.headers.get("Retry-After") if response is not None else None)
