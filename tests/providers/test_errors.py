"""Error text: credentials scrubbed, answers that do not parse named by operation and place (constructed HTTP)."""

from __future__ import annotations

import traceback

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError
from azure.core.rest import HttpRequest

from providers.errors import (
    AzureOperationError,
    UnparsableAnswerError,
    azure_call,
    json_answer,
    required,
    sane_retry_after,
    scrub,
)
from tests.conftest import replay_session
from tests.replay import constructed

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyQGV4YW1wbGUuY29tIn0.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    "text, secret",
    [
        (f"Authorization: Bearer {JWT}", JWT),
        ('{"access_token": "opaque-access-123", "x": 1}', "opaque-access-123"),
        ("grant_type=refresh_token&refresh_token=opaque-refresh-456&scope=repo", "opaque-refresh-456"),
        ('{"password": "hunter2hunter2"}', "hunter2hunter2"),
        ("https://acct.blob.core.windows.net/c/log.txt?sv=2019&sig=SIGNATURE-THAT-MUST-NOT-LEAK", "SIGNATURE"),
        (f"echoed token {JWT} back", JWT),
        ("Authorization: Basic dXNlcjpodW50ZXIyaHVudGVyMg==", "dXNlcjpodW50ZXIyaHVudGVyMg=="),
        ('{"auths": {"r.azurecr.io": {"auth": "dXNlcjpwYXNzd29yZA=="}}}', "dXNlcjpwYXNzd29yZA=="),
        ("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0a2V5Cg==;EndpointSuffix=x", "c2VjcmV0a2V5"),
        ('{"passwords": [{"name": "password1", "value": "generated-pass-789"}]}', "generated-pass-789"),
    ],
)
def test_scrub_masks_credentials(text, secret):
    cleaned = scrub(text)
    assert secret not in cleaned and "REDACTED" in cleaned


def test_scrub_keeps_the_words_after_an_error_code_ending_in_token():
    assert scrub("InvalidToken: the token expired at 10:00") == "InvalidToken: the token expired at 10:00"
    assert scrub("AADSTS700024 InvalidAuthenticationToken: bad audience") == (
        "AADSTS700024 InvalidAuthenticationToken: bad audience"
    )


@pytest.mark.parametrize("value", ["soon", "-30", "NaN", "inf", "Wed, 21 Oct 2015 07:28:00 GMT", None])
def test_a_retry_after_that_is_not_finite_non_negative_seconds_means_the_backoff(value):
    assert sane_retry_after(value) is None
    assert sane_retry_after("7") == 7.0 and sane_retry_after("0") == 0.0


def test_azure_call_names_the_operation_and_chains_no_sdk_error():
    """Constructed: a 403 whose message echoes the request, bearer token included; and a dropped connection."""
    echoed = HttpResponseError(message=f"Forbidden. Request: GET /x Authorization: Bearer {JWT}")
    for error in (echoed, ServiceRequestError(f"connect failed; Authorization: Bearer {JWT}")):

        def call(error=error):
            raise error

        with pytest.raises(AzureOperationError) as raised:
            azure_call("reading agent pool p", call)
        printed = "".join(traceback.format_exception(raised.value))
        assert str(raised.value).startswith("reading agent pool p failed: ")
        assert JWT not in printed and raised.value.__cause__ is None and raised.value.__suppress_context__


def test_scrub_truncates_and_says_so():
    cleaned = scrub("x" * 2000)
    assert cleaned.startswith("x" * 500) and cleaned.endswith("[1500 more characters]")


def _response(status, body, content_type="application/json"):
    session, transport = replay_session(
        [constructed("GET", "https://r.azurecr.io/v2/x", status, body, {"content-type": content_type})]
    )
    from azure.core import PipelineClient

    client = PipelineClient("https://r.azurecr.io", transport=transport)
    return client.send_request(HttpRequest("GET", "https://r.azurecr.io/v2/x"))


def test_an_answer_that_is_not_json_names_the_operation_and_where():
    response = _response(200, "<html>proxy says Authorization: Bearer abc.def.ghi</html>", "text/html")
    with pytest.raises(UnparsableAnswerError) as raised:
        json_answer(response, "reading tag repo:v1", "r.azurecr.io")
    message = str(raised.value)
    assert message.startswith("reading tag repo:v1 on r.azurecr.io: the answer (HTTP 200) is not JSON")
    assert "abc.def.ghi" not in message


def test_a_missing_key_names_its_path():
    with pytest.raises(
        UnparsableAnswerError, match=r"reading tag repo:v1 on r.azurecr.io: the answer has no tag.digest"
    ):
        required({"tag": {"name": "v1"}}, ("tag", "digest"), "reading tag repo:v1", "r.azurecr.io")
    assert required({"tag": {"digest": "sha256:1"}}, ("tag", "digest"), "w", "r") == "sha256:1"
