"""Dynamic resource `AcrBuild`: build and push an image inside the registry (ACR Tasks), no local Docker.

Design notes: docs/providers.md ("providers/acr_build.py").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic as dynamic
from azure.core import PipelineClient
from azure.core.exceptions import AzureError
from azure.core.pipeline.policies import HeadersPolicy, UserAgentPolicy
from azure.core.rest import HttpRequest

from providers.acr_dataplane import AcrDataPlaneClient, repository_and_tag
from providers.acr_tasks import (
    RUN_TERMINAL,
    TIMEOUT_KEY,
    AcrBuildError,
    AcrTasksClient,
    describe_run,
    pushed_digest,
    run_properties,
)
from providers.base import (
    RETRY_SETTINGS,
    AzureProvider,
    AzureSession,
    AzureTarget,
    SessionFactory,
    declared_inputs,
    gone,
    inputs_of,
    retry_policy,
    timeout_of,
)
from providers.build_context import (
    DOCKERFILE_NAME,
    build_context,
    complete_squash_dockerfile,
    context_digest,
    folder_context,
)
from providers.errors import AzureOperationError, WaitTimeoutError

# x-ms-version for the SAS blob calls (Put Blob / Get Blob); any version the service accepts works.
BLOB_API_VERSION = "2021-08-06"
# DockerBuildRequest.timeout bounds (seconds) in the REST spec.
RUN_TIMEOUT_MIN_SECONDS = 300
RUN_TIMEOUT_MAX_SECONDS = 28800
LOG_TAIL_LINES = 30


def run_timeout_seconds(timeout_minutes: float) -> int:
    """The run's own limit: our wait, within what DockerBuildRequest allows."""
    return int(min(max(timeout_minutes * 60, RUN_TIMEOUT_MIN_SECONDS), RUN_TIMEOUT_MAX_SECONDS))


def docker_build_request(
    relative_path: str, target: str, timeout_minutes: float, dockerfile_path: str = DOCKERFILE_NAME
) -> dict[str, Any]:
    return {
        "type": "DockerBuildRequest",
        "sourceLocation": relative_path,
        "dockerFilePath": dockerfile_path,
        "imageNames": [target],
        "isPushEnabled": True,
        # A cached layer would make a rebuild skip the `dd` steps; every build here is deliberate.
        "noCache": True,
        # Artifact streaming supports linux/amd64 only, whatever the build agent would default to.
        "platform": {"os": "Linux", "architecture": "amd64"},
        "timeout": run_timeout_seconds(timeout_minutes),
    }


def _blob_pipeline(session: AzureSession) -> PipelineClient:
    # SAS URLs carry their own authorisation: no bearer token may go to storage. Retries as elsewhere.
    return PipelineClient(
        "https://blob.core.windows.net",
        policies=[HeadersPolicy(), UserAgentPolicy(sdk_moniker="acr-streaming-ab"), retry_policy()],
        transport=session.transport,
    )


def upload_build_context(session: AzureSession, upload_url: str, context: bytes, registry_name: str) -> None:
    """Put Blob of the build context to the SAS URL (never echoed: it grants write access)."""
    request = HttpRequest(
        "PUT",
        upload_url,
        content=context,
        headers={
            "x-ms-blob-type": "BlockBlob",
            "x-ms-version": BLOB_API_VERSION,
            "Content-Type": "application/gzip",
        },
    )
    what = f"uploading the build context to {registry_name}'s build-source storage"
    try:
        response = _blob_pipeline(session).send_request(request)
    except AzureError as err:
        raise AcrBuildError(
            f"{what}: no answer after {RETRY_SETTINGS['retry_total']} tries ({type(err).__name__})"
        ) from None
    if response.status_code not in (200, 201):
        code = response.headers.get("x-ms-error-code") or "no error code"
        raise AcrBuildError(f"{what} failed: HTTP {response.status_code} ({code})")


def read_log_tail(session: AzureSession, client: AcrTasksClient, run_id: str, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a run's log, or a note saying why they could not be read (never raises)."""
    try:
        link = client.get_log_sas_url(run_id)
        if not link:
            return "(ACR returned no log link)"
        response = _blob_pipeline(session).send_request(
            HttpRequest("GET", link, headers={"x-ms-version": BLOB_API_VERSION})
        )
        if response.status_code != 200:
            return f"(the log could not be read: HTTP {response.status_code})"
        text = response.text() or ""
    except (AzureError, AzureOperationError, ValueError, TypeError, AttributeError) as err:
        return f"(the log could not be read: {type(err).__name__})"
    tail = [line.rstrip() for line in text.splitlines() if line.strip()][-lines:]
    return "\n".join(f"    {line}" for line in tail) or "(the log is empty)"


class AcrBuildProvider(AzureProvider):
    """CRUD for one ACR task build (docs/providers.md, "providers/acr_build.py", gives each step).

    Only inputs that do not reach Azure (the limit, subscription/tenant ids) change in place.
    """

    # What identifies the image that gets built; the subscription and tenant only say who calls.
    REPLACE_ON = (
        "resourceGroupName",
        "registryName",
        "loginServer",
        "target",
        "dockerfile",
        "squashSource",
        "userContext",
    )
    OUTPUTS = ("digest", "runId", "ref", "builtDockerfile")

    def describe(self, props: dict[str, Any]) -> str:
        return f"the ACR build of {props.get('target')} in {props.get('registryName')}"

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        session = self._session(props)
        target, registry, login_server = props["target"], props["registryName"], props["loginServer"]
        timeout_minutes = timeout_of(props)
        context, dockerfile, dockerfile_path = self._context(session, props)

        client = AcrTasksClient(session, props["resourceGroupName"], registry)
        upload = client.get_build_source_upload_url()
        upload_build_context(session, upload["uploadUrl"], context, registry)
        queued = client.schedule_run(
            docker_build_request(upload["relativePath"], target, timeout_minutes, dockerfile_path),
            target,
            timeout_minutes=timeout_minutes,
        )
        run_id = run_properties(queued).get("runId")
        if not run_id:
            raise AcrBuildError(f"scheduling the build of {target} in {registry} returned no run id: {queued}")

        run = self._wait_for_run(session, client, run_id, target, timeout_minutes, queued)
        status = run_properties(run).get("status")
        if status != "Succeeded":
            raise AcrBuildError(
                f"the ACR build of {target} (run {run_id} in {registry}) ended {status}: "
                f"{run_properties(run).get('runErrorMessage') or 'ACR gave no error message'}\n"
                f"  last lines of the build log:\n{read_log_tail(session, client, run_id)}\n"
                f"  full log: az acr task logs --registry {registry} --run-id {run_id}"
            )
        digest = pushed_digest(run, target)
        outs = self.outputs_of(
            props, digest=digest, runId=run_id, ref=f"{login_server}/{target}", builtDockerfile=dockerfile
        )
        return dynamic.CreateResult(f"{login_server}/{target}@{digest}", outs)

    @classmethod
    def _context(cls, session: AzureSession, props: dict[str, Any]) -> tuple[bytes, str, str]:
        """What the run receives: the context bytes, the Dockerfile's text and its path inside the context.

        A user's folder (`userContext`) is packed again here and must be what the program saw: a file
        changed in between would build something the plan never showed.
        """
        user = props.get("userContext")
        if not user:
            dockerfile = cls._final_dockerfile(session, props)
            return build_context(dockerfile), dockerfile, DOCKERFILE_NAME
        context = folder_context(user["path"])
        if context_digest(context) != user["digest"]:
            raise AcrBuildError(
                f"the build context {user['path']} changed after this update was planned; run `pulumi up` again"
            )
        dockerfile = (Path(user["path"]) / user["dockerfile"]).read_text(encoding="utf-8", errors="replace")
        return context, dockerfile, user["dockerfile"]

    @staticmethod
    def _final_dockerfile(session: AzureSession, props: dict[str, Any]) -> str:
        source = props.get("squashSource")
        if not source:
            return props["dockerfile"]
        config = AcrDataPlaneClient(props["loginServer"], session).get_image_config(
            source["repository"], source["digest"]
        )
        return complete_squash_dockerfile(props["dockerfile"], config)

    @staticmethod
    def _wait_for_run(
        session: AzureSession,
        client: AcrTasksClient,
        run_id: str,
        target: str,
        timeout_minutes: float,
        queued: dict[str, Any],
    ) -> dict[str, Any]:
        if run_properties(queued).get("status") in RUN_TERMINAL:
            return queued
        what = f"the ACR build of {target} (run {run_id} in {client.registry_name})"
        try:
            return session.wait_until(
                lambda: client.get_run(run_id),
                lambda run: run_properties(run).get("status") in RUN_TERMINAL,
                timeout_minutes=timeout_minutes,
                what=what,
                timeout_key=TIMEOUT_KEY,
                describe=describe_run,
            )
        except WaitTimeoutError:
            try:
                client.cancel_run(run_id)
                cancelled = "it was cancelled"
            except AzureOperationError as err:
                cancelled = f"cancelling it failed too ({err}); it may still push {target}"
            raise WaitTimeoutError(
                f"timed out after {timeout_minutes:g} min waiting for {what}; {cancelled}. Raise "
                f"acr-streaming-ab:{TIMEOUT_KEY} and run `pulumi up` again (a new build starts). "
                f"Log: az acr task logs --registry {client.registry_name} --run-id {run_id}"
            ) from None

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        # See "Read" in docs/providers.md ("providers/acr_build.py"): only the tag's digest can change behind Pulumi's back.
        session = self._session(props)
        repository, tag = repository_and_tag(props["target"])
        digest = AcrDataPlaneClient(props["loginServer"], session).get_tag_digest(repository, tag)
        if digest is None:
            return gone()
        return dynamic.ReadResult(id_, {**inputs_of(props), "digest": digest})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        # Deliberately nothing: see "Delete" in docs/providers.md (the tag may already belong to the
        # replacement build).
        return None


class AcrBuild(dynamic.Resource, module="acr", name="AcrBuild"):
    """An image built from `dockerfile` (or a user's folder) by an ACR task run and pushed as `target`."""

    digest: pulumi.Output[str]
    runId: pulumi.Output[str]
    ref: pulumi.Output[str]
    builtDockerfile: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        azure: AzureTarget,
        resource_group_name: pulumi.Input[str],
        registry_name: pulumi.Input[str],
        login_server: pulumi.Input[str],
        target: pulumi.Input[str],
        dockerfile: pulumi.Input[str] | None,
        timeout_minutes: pulumi.Input[int],
        squash_source: pulumi.Input[dict] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        session_factory: SessionFactory | None = None,
        user_context: dict[str, str] | None = None,
    ):
        inputs: dict[str, Any] = {
            "resourceGroupName": resource_group_name,
            "registryName": registry_name,
            "loginServer": login_server,
            "target": target,
        }
        if user_context is not None:
            # {path, dockerfile, digest}: the folder, the Dockerfile inside it, and what it held when planned.
            inputs["userContext"] = user_context
        else:
            inputs.update(dockerfile=dockerfile, squashSource=squash_source)
        super().__init__(
            AcrBuildProvider(session_factory),
            resource_name,
            declared_inputs(azure, timeout_minutes, inputs, AcrBuildProvider.OUTPUTS),
            opts,
        )

    @property
    def run_id(self) -> pulumi.Output[str]:
        return self.runId

    @property
    def built_dockerfile(self) -> pulumi.Output[str]:
        """The Dockerfile the run built (for squash builds: with the regenerated runtime lines)."""
        return self.builtDockerfile
