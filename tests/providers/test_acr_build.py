"""`AcrBuild`'s provider replayed over HTTP (tests.replay), no Azure.

Design notes: docs/verification.md ("tests/providers/test_acr_build.py").
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ServiceResponseError

from components import dockerfiles
from providers import build_context
from providers.acr_build import (
    RUN_TIMEOUT_MAX_SECONDS,
    RUN_TIMEOUT_MIN_SECONDS,
    AcrBuildError,
    AcrBuildProvider,
    docker_build_request,
)
from providers.acr_tasks import TASKS_API_VERSION
from providers.errors import AzureOperationError, WaitTimeoutError
from tests.conftest import recorded_once
from tests.providers.scenarios.acr_build import (
    ARM,
    DIGEST,
    DOCKERFILE,
    PROPS,
    RELATIVE,
    SAS,
    TARGET,
    provider_for,
    pushed,
    run,
    tag_answer,
    upload,
)
from tests.replay import SUBSCRIPTION, ReplayTransport, constructed, recorded

LOG_SAS = (
    "https://streamabx7k2q9store.blob.core.windows.net/container/logs/cb1/rawtext.log?sv=2019-02-02"
    "&se=2030-01-01T00%3A00%3A00Z&sr=b&sp=r&sig=LOG-SIGNATURE-THAT-MUST-NOT-LEAK"
)
VOTE_FRONT_CONFIG = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "images" / "azure-vote-front-v1.config.constructed.json").read_text()
)


def test_build_sequence_upload_schedule_poll_digest():
    transport = ReplayTransport(
        [
            *upload(),
            constructed("POST", f"{ARM}/scheduleRun", 200, run("Queued")),
            constructed("GET", f"{ARM}/runs/cb1", 200, run("Running", startTime="2026-01-01T10:00:05Z")),
            constructed("GET", f"{ARM}/runs/cb1", 200, run("Succeeded", finishTime="2026-01-01T10:03:00Z", **pushed())),
        ]
    )
    result = provider_for(transport).create(dict(PROPS))

    assert result.id == f"streamabx7k2q9.azurecr.io/{TARGET}@{DIGEST}"
    assert result.outs["digest"] == DIGEST and result.outs["runId"] == "cb1"
    assert result.outs["ref"] == f"streamabx7k2q9.azurecr.io/{TARGET}"
    assert result.outs["builtDockerfile"] == DOCKERFILE and result.outs["dockerfile"] == DOCKERFILE
    assert "__provider" not in result.outs
    assert transport.unused() == []
    assert [(r.method, r.url.split("?")[0].rsplit("/", 1)[-1]) for r in transport.sent] == [
        ("POST", "listBuildSourceUploadUrl"),
        ("PUT", SAS.split("?")[0].rsplit("/", 1)[-1]),
        ("POST", "scheduleRun"),
        ("GET", "cb1"),
        ("GET", "cb1"),
    ]

    for request in transport.requests_to("management.azure.com"):
        assert f"api-version={TASKS_API_VERSION}" in request.url
        assert request.headers["Authorization"] == "Bearer REDACTED"
    (put,) = transport.requests_to("blob.core.windows.net")
    assert put.headers["x-ms-blob-type"] == "BlockBlob"
    assert "Authorization" not in put.headers  # the SAS is the authorisation; no ARM token to storage
    assert put.body == build_context.build_context(DOCKERFILE).decode("utf-8", "replace")

    (schedule,) = transport.requests_to("/scheduleRun")
    assert schedule.body == {
        "type": "DockerBuildRequest",
        "sourceLocation": RELATIVE,
        "dockerFilePath": "Dockerfile",
        "imageNames": [TARGET],
        "isPushEnabled": True,
        "noCache": True,
        "platform": {"os": "Linux", "architecture": "amd64"},
        "timeout": 3600,
    }


def test_schedule_answered_202_is_followed_through_its_location():
    location = f"https://management.azure.com/subscriptions/{SUBSCRIPTION}/providers/Microsoft.ContainerRegistry/locations/westus3/operationResults/run-cb1?api-version={TASKS_API_VERSION}"
    transport = ReplayTransport(
        [
            *upload(),
            constructed("POST", f"{ARM}/scheduleRun", 202, None, {"Location": location, "Retry-After": "1"}),
            constructed("GET", location, 202, None, {"Location": location}),
            constructed("GET", location, 200, run("Queued")),
            constructed("GET", f"{ARM}/runs/cb1", 200, run("Succeeded", **pushed())),
        ]
    )
    result = provider_for(transport).create(dict(PROPS))
    assert result.outs["digest"] == DIGEST
    assert transport.unused() == []


def test_a_run_that_succeeds_at_once_is_not_polled():
    transport = ReplayTransport(
        [*upload(), constructed("POST", f"{ARM}/scheduleRun", 200, run("Succeeded", **pushed()))]
    )
    assert provider_for(transport).create(dict(PROPS)).outs["digest"] == DIGEST
    assert transport.requests_to("/runs/") == []


def test_failed_run_reaches_the_user_with_its_log_and_a_pointer():
    log = "\n".join(
        [f"Step {i}/3 : ..." for i in range(1, 60)]
        + [
            "dd: error writing '/streaming-ab-fill-001.bin': No space left on device",
            "The command '/bin/sh -c dd if=/dev/zero of=/streaming-ab-fill-001.bin bs=1M count=5000' returned a "
            "non-zero code: 1",
            "Run ID: cb1 failed after 2m10s. Error: failed during run, err: exit status 1",
        ]
    )
    transport = ReplayTransport(
        [
            *upload(),
            constructed("POST", f"{ARM}/scheduleRun", 200, run("Queued")),
            constructed(
                "GET", f"{ARM}/runs/cb1", 200, run("Failed", runErrorMessage="failed during run, err: exit status 1")
            ),
            constructed("POST", f"{ARM}/runs/cb1/listLogSasUrl", 200, {"logLink": LOG_SAS}),
            constructed("GET", LOG_SAS, 200, log, {"content-type": "text/plain"}),
        ]
    )
    with pytest.raises(AcrBuildError) as raised:
        provider_for(transport).create(dict(PROPS))
    message = str(raised.value)
    assert f"the ACR build of {TARGET} (run cb1 in streamabx7k2q9) ended Failed" in message
    assert "failed during run, err: exit status 1" in message
    assert "No space left on device" in message and "returned a non-zero code: 1" in message
    assert "Step 1/3" not in message  # only the tail of a long log
    assert "az acr task logs --registry streamabx7k2q9 --run-id cb1" in message
    assert "SIGNATURE-THAT-MUST-NOT-LEAK" not in message
    assert transport.unused() == []


def test_failed_run_without_a_readable_log_still_says_where_to_look():
    transport = ReplayTransport(
        [
            *upload(),
            constructed("POST", f"{ARM}/scheduleRun", 200, run("Queued")),
            constructed("GET", f"{ARM}/runs/cb1", 200, run("Error")),
            constructed(
                "POST",
                f"{ARM}/runs/cb1/listLogSasUrl",
                404,
                {"error": {"code": "ResourceNotFound", "message": "The run log was not found."}},
            ),
        ]
    )
    with pytest.raises(AcrBuildError) as raised:
        provider_for(transport).create(dict(PROPS))
    message = str(raised.value)
    assert "ended Error: ACR gave no error message" in message
    assert "(the log could not be read: AcrBuildError)" in message
    assert "az acr task logs --registry streamabx7k2q9 --run-id cb1" in message


def test_throttling_and_unavailability_are_retried():
    transport = ReplayTransport(
        [
            constructed(
                "POST",
                f"{ARM}/listBuildSourceUploadUrl",
                429,
                {"error": {"code": "TooManyRequests", "message": "Too many requests."}},
                {"Retry-After": "7"},
            ),
            constructed("POST", f"{ARM}/listBuildSourceUploadUrl", 200, {"relativePath": RELATIVE, "uploadUrl": SAS}),
            constructed("PUT", SAS, 503, "<Error><Code>ServerBusy</Code></Error>", {"x-ms-error-code": "ServerBusy"}),
            constructed("PUT", SAS, 201, None),
            constructed("POST", f"{ARM}/scheduleRun", 200, run("Queued")),
            constructed(
                "GET", f"{ARM}/runs/cb1", 503, {"error": {"code": "ServiceUnavailable", "message": "Try later."}}
            ),
            constructed(
                "GET",
                f"{ARM}/runs/cb1",
                429,
                {"error": {"code": "TooManyRequests", "message": "x"}},
                {"Retry-After": "2"},
            ),
            constructed("GET", f"{ARM}/runs/cb1", 200, run("Succeeded", **pushed())),
        ]
    )
    assert provider_for(transport).create(dict(PROPS)).outs["digest"] == DIGEST
    assert transport.unused() == []
    # Retry-After honoured (recorded, not slept), the first plain retry immediately.
    assert 7.0 in transport.sleeps and 2.0 in transport.sleeps


def test_arm_error_on_schedule_reaches_the_user():
    transport = ReplayTransport(
        [
            *upload(),
            constructed(
                "POST",
                f"{ARM}/scheduleRun",
                400,
                {
                    "error": {
                        "code": "TasksOperationsNotAllowed",
                        "message": "ACR Tasks requests for the registry are not permitted.",
                    }
                },
            ),
        ]
    )
    with pytest.raises(AcrBuildError, match="HTTP 400: TasksOperationsNotAllowed: ACR Tasks requests"):
        provider_for(transport).create(dict(PROPS))


def test_upload_failure_does_not_print_the_sas_url():
    transport = ReplayTransport(
        [
            constructed("POST", f"{ARM}/listBuildSourceUploadUrl", 200, {"relativePath": RELATIVE, "uploadUrl": SAS}),
            constructed("PUT", SAS, 403, "<Error/>", {"x-ms-error-code": "AuthenticationFailed"}),
        ]
    )
    with pytest.raises(AcrBuildError) as raised:
        provider_for(transport).create(dict(PROPS))
    assert "HTTP 403 (AuthenticationFailed)" in str(raised.value)
    assert "SIGNATURE" not in str(raised.value) and "blob.core.windows.net" not in str(raised.value)


def test_a_run_past_the_timeout_is_cancelled():
    clock = iter(range(0, 10_000, 40))  # 40 s per look at the clock
    transport = ReplayTransport(
        [
            *upload(),
            constructed("POST", f"{ARM}/scheduleRun", 200, run("Queued")),
            constructed("GET", f"{ARM}/runs/cb1", 200, run("Running")),
            constructed("GET", f"{ARM}/runs/cb1", 200, run("Running")),
            constructed("POST", f"{ARM}/runs/cb1/cancel", 202, None),
        ]
    )
    with pytest.raises(WaitTimeoutError) as raised:
        provider_for(transport, clock).create({**PROPS, "timeoutMinutes": 1})
    message = str(raised.value)
    assert "timed out after 1 min" in message and "it was cancelled" in message
    assert "acr-streaming-ab:timeouts.buildMinutes" in message
    assert transport.unused() == []


def test_a_run_that_pushed_something_else_fails():
    transport = ReplayTransport(
        [
            *upload(),
            constructed("POST", f"{ARM}/scheduleRun", 200, run("Queued")),
            constructed("GET", f"{ARM}/runs/cb1", 200, run("Succeeded", **pushed(tag="latest"))),
        ]
    )
    with pytest.raises(AcrBuildError, match="no pushed image for largeimage/test:v1.*largeimage/test:latest"):
        provider_for(transport).create(dict(PROPS))


def test_squash_build_reads_the_source_config_at_build_time():
    login = "clireg000002.azurecr.io"  # the recorded registry of interactions 52-54
    source_digest = "sha256:" + "d" * 64
    config_digest = "sha256:" + "e" * 64
    head = dockerfiles.squash_dockerfile_head(f"{login}/azure-vote-front:v1@{source_digest}")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 4239,
            "digest": config_digest,
        },
        "layers": [],
    }
    transport = ReplayTransport(
        [
            *recorded("test_acr_artifact_streaming.yaml", [52, 53, 54]),
            constructed(
                "GET",
                f"https://{login}/v2/azure-vote-front/manifests/{source_digest}",
                200,
                manifest,
                {
                    "docker-content-digest": source_digest,
                    "content-type": "application/vnd.docker.distribution.manifest.v2+json",
                },
            ),
            constructed("GET", f"https://{login}/v2/azure-vote-front/blobs/{config_digest}", 200, VOTE_FRONT_CONFIG),
            *upload(),
            constructed("POST", f"{ARM}/scheduleRun", 200, run("Queued")),
            constructed("GET", f"{ARM}/runs/cb1", 200, run("Succeeded", **pushed("azure-vote-front", "squashed"))),
        ]
    )
    props = {
        **PROPS,
        "loginServer": login,
        "target": "azure-vote-front:squashed",
        "dockerfile": head,
        "squashSource": {"repository": "azure-vote-front", "digest": source_digest},
    }
    result = provider_for(transport).create(props)

    expected = dockerfiles.squash_dockerfile(f"{login}/azure-vote-front:v1@{source_digest}", VOTE_FRONT_CONFIG)
    assert result.outs["builtDockerfile"] == expected
    assert result.outs["dockerfile"] == head  # the declared input stays what the preview showed
    assert 'CMD ["/start.sh"]' in expected and "WORKDIR /app" in expected
    (put,) = transport.requests_to("blob.core.windows.net")
    assert put.body == build_context.build_context(expected).decode("utf-8", "replace")
    assert [i.origin for i in transport.interactions[:3]] == [
        "test_acr_artifact_streaming.yaml#52",
        "test_acr_artifact_streaming.yaml#53",
        "test_acr_artifact_streaming.yaml#54",
    ]
    assert transport.unused() == []


@pytest.mark.parametrize(
    "minutes, seconds", [(1, RUN_TIMEOUT_MIN_SECONDS), (60, 3600), (1440, RUN_TIMEOUT_MAX_SECONDS)]
)
def test_run_timeout_stays_within_what_the_api_accepts(minutes, seconds):
    assert docker_build_request(RELATIVE, TARGET, minutes)["timeout"] == seconds


# --- diff / update / delete: no HTTP at all ------------------------------------------------------
OLDS = {
    **PROPS,
    "digest": DIGEST,
    "runId": "cb1",
    "ref": f"streamabx7k2q9.azurecr.io/{TARGET}",
    "builtDockerfile": DOCKERFILE,
}


@pytest.mark.parametrize(
    "key, value",
    [
        ("dockerfile", DOCKERFILE.replace("count=5000", "count=4000")),
        ("target", "largeimage/test:v2"),
        ("registryName", "otherregistry"),
        ("squashSource", {"repository": "azure-vote-front", "digest": DIGEST}),
    ],
)
def test_what_is_built_changing_replaces(key, value):
    diff = AcrBuildProvider().diff("id", OLDS, {**PROPS, key: value})
    assert diff.changes is True and diff.replaces == [key] and diff.delete_before_replace is False


def test_timeout_and_provider_changes_are_not_a_rebuild():
    diff = AcrBuildProvider().diff("id", OLDS, {**PROPS, "timeoutMinutes": 240, "__provider": "re-pickled"})
    assert diff.changes is False and diff.replaces == []


def test_caller_change_updates_in_place_and_keeps_the_image():
    provider = AcrBuildProvider()
    news = {**PROPS, "subscriptionId": "11111111-1111-1111-1111-111111111111"}
    diff = provider.diff("id", OLDS, news)
    assert diff.changes is True and diff.replaces == []
    outs = provider.update("id", OLDS, news).outs
    assert outs["digest"] == DIGEST and outs["runId"] == "cb1" and outs["subscriptionId"] == news["subscriptionId"]


def test_delete_leaves_the_registry_alone():
    transport = ReplayTransport([])  # any request would fail the test
    assert provider_for(transport).delete("id", OLDS) is None
    assert transport.sent == []


# --- read (refresh): the tag's digest from the data plane ------------------------------------------
READ_LOGIN = "clireg000002.azurecr.io"  # the recorded registry of interactions 29-31
READ_TARGET = "microsoft:streaming-ab-built"
BUILT = {**OLDS, "loginServer": READ_LOGIN, "target": READ_TARGET, "ref": f"{READ_LOGIN}/{READ_TARGET}"}
BUILT_ID = f"{READ_LOGIN}/{READ_TARGET}@{DIGEST}"
TAG_URL = f"https://{READ_LOGIN}/acr/v1/microsoft/_tags/streaming-ab-built"


def read_with(answer) -> tuple[Any, ReplayTransport]:
    transport = ReplayTransport([*recorded_once("test_acr_artifact_streaming.yaml", [29, 30, 31]), answer])
    return provider_for(transport).read(BUILT_ID, dict(BUILT)), transport


def test_read_of_an_unmoved_tag_returns_the_state_unchanged():
    result, transport = read_with(tag_answer(READ_LOGIN, READ_TARGET, DIGEST))
    assert result.id == BUILT_ID
    assert result.outs == {k: v for k, v in BUILT.items() if k != "__provider"}
    assert transport.unused() == []
    (token,) = transport.requests_to("/oauth2/token")
    assert token.body["scope"] == "repository:microsoft:metadata_read"  # what the recorded #31 granted


def test_read_of_a_moved_tag_reports_the_current_digest():
    moved = "sha256:" + "c" * 64
    result, transport = read_with(tag_answer(READ_LOGIN, READ_TARGET, moved))
    assert result.id == BUILT_ID
    assert result.outs["digest"] == moved  # drift: the streaming artifact (input `digest`) gets replaced
    assert {k: result.outs[k] for k in ("runId", "ref", "builtDockerfile", "dockerfile", "target")} == {
        k: BUILT[k] for k in ("runId", "ref", "builtDockerfile", "dockerfile", "target")
    }
    assert transport.unused() == []


@pytest.mark.parametrize("code", ["TAG_UNKNOWN", "NAME_UNKNOWN"])
def test_read_of_a_deleted_tag_or_repository_reports_it_gone(code):
    result, transport = read_with(
        constructed(
            "GET",
            TAG_URL,
            404,
            {"errors": [{"code": code, "message": "the specified tag or repository does not exist", "detail": None}]},
        )
    )
    assert result.id is None and result.outs == {}
    assert transport.unused() == []


def test_read_failure_other_than_404_fails_the_refresh():
    # A 403 must not be taken for "gone": that would drop a live build from state.
    with pytest.raises(AzureOperationError, match="HTTP 403.*DENIED"):
        read_with(
            constructed(
                "GET",
                TAG_URL,
                403,
                {"errors": [{"code": "DENIED", "message": "requested access to the resource is denied"}]},
            )
        )


def _runs(*runs: dict[str, Any]) -> Any:
    return constructed("GET", f"{ARM}/runs?$top=20", 200, {"value": list(runs)})


def _upload_at(date: str) -> list:
    listing, put = upload()
    listing.response_headers["Date"] = date
    return [listing, put]


def test_an_unanswered_schedule_run_is_found_not_sent_twice():
    """Constructed: scheduleRun answered 500 (sent once: azure-core would resend a POST after a 500). The
    newest runs then show one created after the server's `Date` of the answer just before the POST,
    still running, then done with the target pushed: that run is adopted; no second build is queued.
    An older run that pushed the same target (a previous deployment's) is never taken for it."""
    old = run("Succeeded", createTime="2026-01-01T09:00:00Z", **pushed(digest="sha256:" + "0" * 64))
    old["properties"]["runId"] = "ca9"
    transport = ReplayTransport(
        [
            *_upload_at("Thu, 01 Jan 2026 10:00:00 GMT"),
            constructed("POST", f"{ARM}/scheduleRun", 500, {"error": {"code": "InternalServerError", "message": "x"}}),
            _runs(run("Running", createTime="2026-01-01T10:00:02.1234567Z"), old),
            _runs(run("Succeeded", createTime="2026-01-01T10:00:02.1234567Z", **pushed()), old),
        ]
    )
    result = provider_for(transport).create(dict(PROPS))
    assert (result.outs["runId"], result.outs["digest"]) == ("cb1", DIGEST)
    assert len(transport.requests_to("/scheduleRun")) == 1
    assert transport.unused() == []


def test_an_unanswered_schedule_run_that_started_nothing_is_sent_once_more():
    """Constructed: scheduleRun's connection drops; the newest runs show only one from before the POST
    (that pushed the same target an hour earlier): nothing was started, so the POST goes out again."""
    old = run("Succeeded", createTime="2026-01-01T09:00:00Z", **pushed(digest="sha256:" + "0" * 64))
    transport = ReplayTransport(
        [
            *_upload_at("Thu, 01 Jan 2026 10:00:00 GMT"),
            constructed("POST", f"{ARM}/scheduleRun", error=ServiceResponseError("Connection reset by peer")),
            _runs(old),
            constructed("POST", f"{ARM}/scheduleRun", 200, run("Queued")),
            constructed("GET", f"{ARM}/runs/cb1", 200, run("Succeeded", **pushed())),
        ]
    )
    assert provider_for(transport).create(dict(PROPS)).outs["digest"] == DIGEST
    assert len(transport.requests_to("/scheduleRun")) == 2
    assert transport.unused() == []


def test_a_schedule_answer_pointing_to_another_host_gets_no_arm_token():
    """Constructed: scheduleRun answered 202 with a `Location` outside management.azure.com. The
    provider refuses to poll it (it would carry the ARM bearer token) and names the build."""
    transport = ReplayTransport(
        [
            *upload(),
            constructed("POST", f"{ARM}/scheduleRun", 202, None, {"Location": "https://collector.example/runs/cb1"}),
        ]
    )
    with pytest.raises(AzureOperationError) as raised:
        provider_for(transport).create(dict(PROPS))
    assert str(raised.value).startswith(f"creating the ACR build of {TARGET} in streamabx7k2q9: refused to send")
    assert not transport.requests_to("collector.example")


# -- A user's own folder (images[].build) ------------------------------------------------------------------
def user_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    (folder / "docker").mkdir(parents=True)
    (folder / "docker" / "Dockerfile").write_text("FROM scratch\nCOPY server /server\n")
    (folder / "server").write_text("#!/bin/sh\n")
    return folder


def user_props(folder: Path, **overrides: Any) -> dict[str, Any]:
    digest = build_context.context_digest(build_context.folder_context(folder))
    context = {"path": str(folder), "dockerfile": "docker/Dockerfile", "digest": digest}
    props = {k: v for k, v in PROPS.items() if k not in ("dockerfile", "squashSource")}
    return {**props, "target": "myapp:v1", "userContext": context, **overrides}


def test_a_users_folder_is_uploaded_whole_and_built_with_its_dockerfile(tmp_path):
    """Constructed: upload, scheduleRun and a Succeeded run (the same shapes as the synthetic builds)."""
    folder = user_folder(tmp_path)
    transport = ReplayTransport(
        [
            *upload(),
            constructed("POST", f"{ARM}/scheduleRun", 200, run("Succeeded", **pushed("myapp", "v1"))),
        ]
    )
    result = provider_for(transport).create(user_props(folder))
    (put,) = transport.requests_to("blob.core.windows.net")
    assert put.body == build_context.folder_context(folder).decode("utf-8", "replace")
    (schedule,) = transport.requests_to("/scheduleRun")
    assert schedule.body["dockerFilePath"] == "docker/Dockerfile" and schedule.body["imageNames"] == ["myapp:v1"]
    assert result.outs["digest"] == DIGEST and result.outs["builtDockerfile"].startswith("FROM scratch")


def test_a_folder_changed_after_the_plan_builds_nothing(tmp_path):
    folder = user_folder(tmp_path)
    props = user_props(folder)
    (folder / "server").write_text("#!/bin/sh\necho changed\n")
    transport = ReplayTransport([])
    with pytest.raises(AcrBuildError, match="changed after this update was planned"):
        provider_for(transport).create(props)
    assert transport.sent == []


def test_folder_context_is_the_same_bytes_for_the_same_files(tmp_path):
    first = build_context.folder_context(user_folder(tmp_path / "one"))
    second = build_context.folder_context(user_folder(tmp_path / "two"))
    assert first == second
    (tmp_path / "two" / "app" / "server").write_text("other")
    assert build_context.folder_context(tmp_path / "two" / "app") != first


def test_a_new_folder_digest_rebuilds(tmp_path):
    props = user_props(user_folder(tmp_path))
    changed = {**props, "userContext": {**props["userContext"], "digest": "sha256:" + "0" * 64}}
    diff = AcrBuildProvider().diff("id", props, changed)
    assert diff.changes and "userContext" in (diff.replaces or [])


def test_history_and_local_environments_are_left_out_of_a_folder(tmp_path):
    folder = user_folder(tmp_path)
    before = build_context.folder_context(folder)
    for left_out in build_context.LEFT_OUT_FOLDERS:
        (folder / left_out / "deep").mkdir(parents=True)
        (folder / left_out / "deep" / "file").write_text("not sent")
        (folder / "docker" / left_out).mkdir()
    assert build_context.folder_context(folder) == before


def test_a_folder_that_cannot_be_read_or_is_too_large_is_one_line(tmp_path, monkeypatch):
    with pytest.raises(build_context.BuildContextError, match=r"^cannot read .*missing: No such file or directory$"):
        build_context.folder_context(tmp_path / "missing")
    folder = user_folder(tmp_path)
    monkeypatch.setattr(build_context, "MAX_CONTEXT_BYTES", 2**20)
    (folder / "big").write_bytes(os.urandom(2**20))
    with pytest.raises(build_context.BuildContextError, match=r"^the folder is more than 1 MiB as a tar; allowed"):
        build_context.folder_context(folder)
