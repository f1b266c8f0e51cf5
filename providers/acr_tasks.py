"""ACR Tasks' run calls on a registry (upload URL, scheduleRun, runs), through the ARM SDK's pipeline.

Why not the SDK's own operations, and each call: docs/providers.md ("providers/acr_build.py").
scheduleRun queues a build per call, so it is never sent twice blindly (`AcrTasksClient.schedule_run`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from azure.core.exceptions import AzureError
from azure.core.rest import HttpRequest, HttpResponse
from azure.mgmt.containerregistry import ContainerRegistryManagementClient

from providers.acr_dataplane import repository_and_tag
from providers.base import RETRY_SETTINGS, AzureSession
from providers.errors import AzureOperationError, UnparsableAnswerError, arm_error_text, fault_text, json_answer

TIMEOUT_KEY = "timeouts.buildMinutes"
TASKS_API_VERSION = "2019-06-01-preview"
RUN_TERMINAL = ("Succeeded", "Failed", "Canceled", "Error", "Timeout")
# scheduleRun is not idempotent (each call queues a build): it is sent this many times at most, and
# after an attempt without a clear answer the run it may have started is looked for first.
SCHEDULE_ATTEMPTS = 3
# How many of the newest runs are looked through for it, and how far before the server's clock
# (the `Date` of the answer just before the POST) a run may say it was created.
RECENT_RUNS = 20
CLOCK_SLACK = timedelta(seconds=60)
_UNANSWERED_STATUSES = (408, 429, 500, 502, 503, 504)


class AcrBuildError(AzureOperationError):
    """A build could not be scheduled, failed, or pushed nothing; the message carries Azure's words."""

    def __init__(self, message: str, *, unanswered: bool = False):
        super().__init__(message)
        # No answer, or a 408/429/5xx: the request may or may not have been acted on.
        self.unanswered = unanswered


def run_properties(run: dict[str, Any]) -> dict[str, Any]:
    return run.get("properties") or {}


def describe_run(run: dict[str, Any]) -> str:
    props = run_properties(run)
    parts = [f"run {props.get('runId')} status {props.get('status')}"]
    for key in ("startTime", "lastUpdatedTime"):
        if props.get(key):
            parts.append(f"{key} {props[key]}")
    return ", ".join(parts)


def pushed_digest(run: dict[str, Any], target: str) -> str:
    """The digest the run pushed for `target` (`repo:tag`), from its `outputImages`."""
    repository, tag = repository_and_tag(target)
    images = run_properties(run).get("outputImages") or []
    for image in images:
        if image.get("repository") == repository and image.get("tag") == tag and image.get("digest"):
            return image["digest"]
    reported = ", ".join(f"{i.get('repository')}:{i.get('tag')}@{i.get('digest')}" for i in images) or "none"
    raise AcrBuildError(
        f"run {run_properties(run).get('runId')} succeeded but reports no pushed image for {target} "
        f"(outputImages: {reported})"
    )


class AcrTasksClient:
    """The four task/run calls on one registry, through the stable management SDK's ARM pipeline."""

    def __init__(self, session: AzureSession, resource_group_name: str, registry_name: str):
        self._session = session
        self.registry_name = registry_name
        self._client = session.arm_client(ContainerRegistryManagementClient)
        # The server's clock at the last answer (its `Date`), to tell the runs started since.
        self.server_time: datetime | None = None
        self._path = (
            f"/subscriptions/{session.subscription_id}/resourceGroups/{resource_group_name}"
            f"/providers/Microsoft.ContainerRegistry/registries/{registry_name}"
        )

    def get_build_source_upload_url(self) -> dict[str, Any]:
        what = "getting a build-source upload URL"
        body = self._json(self._send("POST", f"{self._path}/listBuildSourceUploadUrl", what), what)
        if not body.get("uploadUrl") or not body.get("relativePath"):
            raise AcrBuildError(
                f"registry {self.registry_name} returned no build-source upload location "
                f"(keys: {', '.join(sorted(body))})"
            )
        return body

    def schedule_run(self, run_request: dict[str, Any], target: str, *, timeout_minutes: float) -> dict[str, Any]:
        """Schedule one run, never two: after an attempt without a clear answer, look for its run first."""
        since = self.server_time
        deadline = self._session.clock() + timeout_minutes * 60
        for attempt in range(1, SCHEDULE_ATTEMPTS + 1):
            try:
                return self.begin_schedule_run(run_request, timeout_minutes=timeout_minutes)
            except AcrBuildError as error:
                if not error.unanswered or attempt == SCHEDULE_ATTEMPTS:
                    raise
            started = self.run_started_since(since, target, deadline=deadline, timeout_minutes=timeout_minutes)
            if started is not None:
                return started
            self._session.sleep(min(2.0**attempt, max(deadline - self._session.clock(), 0.0)))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def run_started_since(
        self, since: datetime | None, target: str, *, deadline: float, timeout_minutes: float
    ) -> dict[str, Any] | None:
        """The run an unanswered scheduleRun started: a recent one that pushed `target`, once every
        recent run has ended (one still going may be it). None when there is none."""

        def recent() -> list[dict[str, Any]]:
            return [run for run in self.list_recent_runs() if _is_recent(run, since)]

        runs = self._session.wait_until(
            recent,
            lambda found: all(run_properties(run).get("status") in RUN_TERMINAL for run in found),
            timeout_minutes=timeout_minutes,
            deadline=deadline,
            what=f"the runs that may have been started by an unanswered scheduleRun for {target}",
            timeout_key=TIMEOUT_KEY,
            describe=lambda found: "; ".join(describe_run(run) for run in found),
        )
        return next((run for run in runs if _pushed(run, target)), None)

    def list_recent_runs(self) -> list[dict[str, Any]]:
        what = f"listing the newest runs of {self.registry_name}"
        body = self._json(self._send("GET", f"{self._path}/runs?$top={RECENT_RUNS}", what), what)
        runs = body.get("value") or []
        if not isinstance(runs, list) or not all(isinstance(run, dict) for run in runs):
            raise UnparsableAnswerError(f"{what}: `value` is not a list of runs")
        return runs

    def begin_schedule_run(self, run_request: dict[str, Any], *, timeout_minutes: float) -> dict[str, Any]:
        """Schedule a run; returns the Run (answered at once, or found through the 202's Location)."""
        what = f"scheduling a build of {', '.join(run_request.get('imageNames') or [])} in {self.registry_name}"
        response = self._send("POST", f"{self._path}/scheduleRun", what, body=run_request, ok=(200, 202), once=True)
        if response.status_code == 200:
            return self._json(response, what)
        location = response.headers.get("Location")
        if not location:
            raise AcrBuildError(
                f"{what}: ACR accepted the request (202) without a Location to find the run; see "
                f"`az acr task list-runs --registry {self.registry_name}`"
            )
        final = self._session.wait_until(
            lambda: self._send("GET", location, what, ok=(200, 202)),
            lambda r: r.status_code == 200,
            timeout_minutes=timeout_minutes,
            what=what,
            timeout_key=TIMEOUT_KEY,
            describe=lambda r: f"HTTP {r.status_code} (not queued yet)",
        )
        return self._json(final, what)

    def get_run(self, run_id: str) -> dict[str, Any]:
        what = f"reading run {run_id}"
        return self._json(self._send("GET", f"{self._path}/runs/{run_id}", what), what)

    def get_log_sas_url(self, run_id: str) -> str | None:
        what = f"getting the log of run {run_id}"
        return self._json(self._send("POST", f"{self._path}/runs/{run_id}/listLogSasUrl", what), what).get("logLink")

    def _json(self, response: HttpResponse, what: str) -> dict[str, Any]:
        where = f"registry {self.registry_name}"
        body = json_answer(response, what, where)
        if not isinstance(body, dict):
            raise UnparsableAnswerError(f"{what} on {where}: expected a JSON object")
        return body

    def cancel_run(self, run_id: str) -> None:
        self._send("POST", f"{self._path}/runs/{run_id}/cancel", f"cancelling run {run_id}", ok=(200, 202, 204))

    def _send(
        self, method: str, url: str, what: str, *, body: Any = None, ok: tuple[int, ...] = (200,), once: bool = False
    ) -> HttpResponse:
        """One ARM call; `once` sends it a single time (azure-core would repeat a POST after a 5xx)."""
        # Relative paths get the ARM endpoint; absolute ones (a 202's Location) are used as they are.
        params = {} if url.startswith("https://") else {"api-version": TASKS_API_VERSION}
        request = HttpRequest(method, url, params=params, json=body)
        try:
            options: dict[str, Any] = {"retry_total": 0} if once else {}
            response = self._client.send_request(request, **options)
        except AzureError as err:
            tries = 1 if once else RETRY_SETTINGS["retry_total"]
            raise AcrBuildError(
                f"{what}: no answer from Azure Resource Manager after {tries} tries ({fault_text(err)})",
                unanswered=True,
            ) from None
        self.server_time = _server_time(response) or self.server_time
        if response.status_code not in ok:
            raise AcrBuildError(
                f"{what} failed: HTTP {response.status_code}: {arm_error_text(response)}",
                unanswered=response.status_code in _UNANSWERED_STATUSES,
            )
        return response


def _server_time(response: HttpResponse) -> datetime | None:
    try:
        return parsedate_to_datetime(response.headers.get("Date") or "")
    except (TypeError, ValueError):
        return None


def _created(run: dict[str, Any]) -> datetime | None:
    text = str(run_properties(run).get("createTime") or "")
    # ARM writes up to 7 fractional digits; datetime reads 6.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00")
    try:
        created = datetime.fromisoformat(text)
    except ValueError:
        return None
    return created if created.tzinfo is not None else None


def _is_recent(run: dict[str, Any], since: datetime | None) -> bool:
    """Created after the server's time before the POST (with slack); unknown times count if still going."""
    created = _created(run)
    if since is None or created is None:
        return run_properties(run).get("status") not in RUN_TERMINAL
    return created >= since - CLOCK_SLACK


def _pushed(run: dict[str, Any], target: str) -> bool:
    try:
        return run_properties(run).get("status") == "Succeeded" and bool(pushed_digest(run, target))
    except AcrBuildError:
        return False
