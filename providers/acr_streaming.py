"""Dynamic resources for ACR artifact streaming: one conversion per image digest, and auto-conversion.

`StreamingArtifact` makes sure an image digest has its overlaybd streaming artifact (an OCI referrer
with artifactType `application/vnd.azure.artifact.streaming.v1`), the same way
`az acr artifact-streaming create` does: look for an existing artifact, else for a conversion already
under way, else start one (`POST /acr/v1/{repo}/_streaming/{digest}`), then poll
`/acr/v1/{repo}/_operations/{id}` until it ends. `RepositoryStreaming` is a repository's
`convertPushedImages` switch (`az acr artifact-streaming update`).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi.dynamic as dynamic

from providers.acr_dataplane import STREAMING_ARTIFACT_TYPE, AcrDataPlaneClient, AcrDataPlaneError
from providers.base import AzureProvider, AzureSession, AzureTarget, SessionFactory, declared_inputs, gone, timeout_of
from providers.errors import AzureOperationError

IN_FLIGHT = ("notstarted", "running")
TERMINAL = ("succeeded", "failed", "canceled")
TIMEOUT_KEY = "timeouts.conversionMinutes"
# The conversion POST is sent this many times at most (see `start_once`).
START_ATTEMPTS = 3


class StreamingConversionError(AzureOperationError):
    """A conversion ended Failed or Canceled; the message carries the operation's own details."""


def _status(operation: dict[str, Any]) -> str:
    return str(operation.get("status") or "").lower()


def describe_operation(operation: dict[str, Any] | None) -> str:
    if not operation:
        return "no operation"
    parts = [f"status {operation.get('status')}"]
    for key in ("progress", "startTime", "details"):
        if operation.get(key):
            parts.append(f"{key} {operation[key]}")
    return ", ".join(parts)


def wait_for_operation(
    session: AzureSession,
    client: AcrDataPlaneClient,
    repository: str,
    operation_id: str,
    *,
    subject: str,
    timeout_minutes: float,
    deadline: float | None = None,
) -> dict[str, Any]:
    """Poll a streaming operation to its end; anything but Succeeded raises with Azure's details."""

    def fetch() -> dict[str, Any]:
        operation = client.get_operation(repository, operation_id)
        if operation is None:
            raise StreamingConversionError(
                f"streaming operation {operation_id} ({subject}) is no longer known to {client.login_server}"
            )
        return operation

    operation = session.wait_until(
        fetch,
        lambda op: _status(op) in TERMINAL,
        timeout_minutes=timeout_minutes,
        deadline=deadline,
        what=f"{subject} (operation {operation_id} on {client.login_server})",
        timeout_key=TIMEOUT_KEY,
        describe=describe_operation,
    )
    if _status(operation) != "succeeded":
        extra = {k: v for k, v in operation.items() if k not in ("status", "details")}
        raise StreamingConversionError(
            f"{subject} (operation {operation_id} on {client.login_server}) ended {operation.get('status')}: "
            f"{operation.get('details') or 'no details given'} {json.dumps(extra, sort_keys=True)}"
        )
    return operation


def start_once(
    session: AzureSession, client: AcrDataPlaneClient, repository: str, digest: str, *, deadline: float
) -> str:
    """The conversion to wait for: one under way is joined; else one is started, and never twice.

    The POST is not idempotent. After an attempt without a clear answer (no answer, 408/429/5xx) the
    conversion it may have started is looked for (`GET _streaming/{digest}`) before trying again.
    """
    for attempt in range(1, START_ATTEMPTS + 1):
        last = client.get_conversion(repository, digest)
        if last is not None and (_status(last) in IN_FLIGHT or (attempt > 1 and _status(last) == "succeeded")):
            return str(last["id"])
        try:
            return str(client.start_conversion(repository, digest)["id"])
        except AcrDataPlaneError as error:
            if not error.unanswered or attempt == START_ATTEMPTS:
                raise
        session.sleep(min(2.0**attempt, max(deadline - session.clock(), 0.0)))
    raise AssertionError("unreachable: the last attempt returns or raises")


class _Subjects:
    """Where a streaming referrer may hang: the converted digest, and for an index its linux/amd64 child."""

    def __init__(self, client: AcrDataPlaneClient, repository: str, digest: str):
        self._client, self._repository, self._digest = client, repository, digest
        self._child: str | None = None
        self._resolved = False

    def first_with_referrers(self) -> tuple[str, list[dict[str, Any]]]:
        found = self._client.list_streaming_referrers(self._repository, self._digest) or []
        if found:
            return self._digest, found
        if not self._resolved:
            # Read once, only when the digest itself has none yet: a single-manifest image costs nothing.
            self._child = self._client.amd64_child(self._repository, self._digest)
            self._resolved = True
        if self._child is not None:
            found = self._client.list_streaming_referrers(self._repository, self._child) or []
            if found:
                return self._child, found
        return self._digest, []

    def described(self) -> str:
        both = f"{self._digest} or its linux/amd64 manifest {self._child}" if self._child else self._digest
        return f"{self._repository}@{both}"


class _DataPlaneProvider(AzureProvider):
    """A provider that talks to one registry's data plane (`loginServer` input) for the stack's tenant."""

    def _connect(self, props: dict[str, Any]) -> tuple[AzureSession, AcrDataPlaneClient]:
        session = self._session(props)
        return session, AcrDataPlaneClient(props["loginServer"], session)


class StreamingArtifactProvider(_DataPlaneProvider):
    """CRUD for the streaming artifact of one `repository@digest`.

    - create: reuse an existing streaming referrer (no POST); else join a conversion that is
      NotStarted/Running (auto-conversion, or an earlier run that timed out); else start one. Wait
      for the operation (`timeouts.conversionMinutes`), then read the referrers for the artifact's
      manifest digest (the operation result does not carry it). Failed/Canceled fail the deployment
      with the operation's `details`.
    - read: the artifact is still among the image's streaming referrers, or it is gone (empty
      result, so a refresh drops it from state and the next `up` converts again).
    - diff: a different registry or repository replaces. A new digest (the import re-imported its
      tag from a changed source) updates in place: convert the new digest, then leave the old one as
      `delete` would. So a preview, which cannot know the import's new digest yet, shows an update
      and not a replacement that `up` may never make. A change of subscription or tenant only
      changes who calls: an in-place update with no API call.
    - delete: cancels the conversion it started or joined if that still runs (not one started since
      by auto-conversion or anyone else). The referrer stays with its image, as an untagged import's
      manifest does, and goes with the registry: another declared resource may hold the same
      repository@digest under another name (an image whose source moved to an equivalent reference,
      or a second reference to one image), and a delete here cannot see it. The subject is never touched.
    """

    REPLACE_ON = ("loginServer", "repository")
    OUTPUTS = ("streamingArtifactDigest", "streamingArtifactSubject", "operationId", "status", "reused")

    def describe(self, props: dict[str, Any]) -> str:
        return (
            f"the streaming artifact of {props.get('repository')}@{props.get('digest')} in {props.get('loginServer')}"
        )

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(
            f"{props['loginServer']}/{props['repository']}@{props['digest']}", self._convert(props)
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        if olds.get("digest") == news.get("digest"):
            return super().update(id_, olds, news)
        outs = self._convert(news)
        # As a replacement would: once the new artifact exists, the old digest is left as `delete` leaves it.
        self.delete(id_, olds)
        return dynamic.UpdateResult(outs)

    def _convert(self, props: dict[str, Any]) -> dict[str, Any]:
        """The streaming artifact of `props`' digest: found, joined or converted; its outputs."""
        session, client = self._connect(props)
        repository, digest = props["repository"], props["digest"]
        subject = f"the streaming conversion of {repository}@{digest}"
        started = session.clock()
        budget = timeout_of(props)  # one budget: the operation and the artifact after it

        referrers = client.list_streaming_referrers(repository, digest)
        if referrers is None:
            raise AcrDataPlaneError(
                f"{repository}@{digest} does not exist in {client.login_server}: nothing to convert"
            )
        if referrers:
            return self._result(props, referrers[0]["digest"], None, "Succeeded", reused=True, subject=digest)

        operation_id = start_once(session, client, repository, digest, deadline=started + budget * 60)
        operation = wait_for_operation(
            session,
            client,
            repository,
            operation_id,
            subject=subject,
            timeout_minutes=budget,
            deadline=started + budget * 60,
        )

        # The artifact is written when the operation reports success; give it what is left of the budget.
        # For a multi-arch tag (an index) whether ACR attaches the referrer to the index or to its
        # linux/amd64 manifest is not established (docs/providers.md): both are looked at.
        subjects = _Subjects(client, repository, digest)
        subject, referrers = session.wait_until(
            subjects.first_with_referrers,
            lambda found: bool(found[1]),
            timeout_minutes=budget,
            deadline=started + budget * 60,
            what=f"the streaming artifact of {repository}@{digest} after operation {operation_id} succeeded",
            timeout_key=TIMEOUT_KEY,
            describe=lambda _: f"no referrer with artifactType {STREAMING_ARTIFACT_TYPE} on {subjects.described()} yet",
        )
        return self._result(
            props, referrers[0]["digest"], operation_id, operation.get("status"), reused=False, subject=subject
        )

    @staticmethod
    def _result(
        props: dict[str, Any], artifact: str, operation_id: str | None, status: Any, *, reused: bool, subject: str
    ) -> dict[str, Any]:
        return StreamingArtifactProvider.outputs_of(
            props,
            streamingArtifactDigest=artifact,
            streamingArtifactSubject=subject,
            operationId=operation_id,
            status=status,
            reused=reused,
        )

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        _, client = self._connect(props)
        subject = props.get("streamingArtifactSubject") or props["digest"]
        referrers = client.list_streaming_referrers(props["repository"], subject)
        if not referrers:
            return gone()
        known = [r["digest"] for r in referrers]
        current = props.get("streamingArtifactDigest")
        return dynamic.ReadResult(id_, {**props, "streamingArtifactDigest": current if current in known else known[0]})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if props.get("reused"):
            return
        _, client = self._connect(props)
        repository, digest = props["repository"], props["digest"]
        last = client.get_conversion(repository, digest)
        # Only the conversion this resource started or joined: one started since by auto-conversion,
        # or by another stack's artifact of the same digest, is not this resource's to stop.
        if last is not None and _status(last) in IN_FLIGHT and last.get("id") == props.get("operationId"):
            client.cancel_operation(repository, last["id"])


class RepositoryStreamingProvider(_DataPlaneProvider):
    """CRUD for a repository's `convertPushedImages` (auto-conversion of every pushed image).

    - create/update: `POST /acr/v1/{repo}/_streaming`; if ACR answers with an operation still
      running, wait for it (`timeouts.conversionMinutes`). The repository must exist (import first).
    - read: the current setting (drift shows as a change); a missing repository is gone.
    - diff: another registry or repository replaces; the switch itself updates in place.
    - delete: switches auto-conversion off again (the registry default) the same way, waiting for
      and checking the operation like create/update, so a destroy that reports success has really
      switched it off; a missing repository is already gone. Artifacts already made stay (they
      belong to their images, and `StreamingArtifact` resources manage the ones this stack needs).
    """

    REPLACE_ON = ("loginServer", "repository")

    def describe(self, props: dict[str, Any]) -> str:
        return f"auto-conversion (convertPushedImages) of {props.get('repository')} in {props.get('loginServer')}"

    def _apply(self, props: dict[str, Any]) -> dict[str, Any]:
        session, client = self._connect(props)
        enabled = bool(props["convertPushedImages"])
        self._switch(session, client, props, enabled)
        return self.outputs_of(props, convertPushedImages=enabled)

    @staticmethod
    def _switch(session: AzureSession, client: AcrDataPlaneClient, props: dict[str, Any], enabled: bool) -> None:
        """Set `convertPushedImages` and see the operation through (`timeoutMinutes`); Failed/Canceled raise."""
        repository = props["repository"]
        result = client.set_repository_streaming(repository, enabled)
        if _status(result) in IN_FLIGHT:
            wait_for_operation(
                session,
                client,
                repository,
                result["id"],
                subject=f"setting convertPushedImages={str(enabled).lower()} on {repository}",
                timeout_minutes=timeout_of(props),
            )
        elif _status(result) in ("failed", "canceled"):
            raise StreamingConversionError(
                f"setting convertPushedImages={str(enabled).lower()} on {repository} ended "
                f"{result.get('status')}: {describe_operation(result)}"
            )

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(f"{props['loginServer']}/{props['repository']}", self._apply(props))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        _, client = self._connect(props)
        current = client.get_repository_streaming(props["repository"])
        if current is None:
            return gone()
        return dynamic.ReadResult(id_, {**props, "convertPushedImages": bool(current.get("convertPushedImages"))})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        if bool(olds.get("convertPushedImages")) == bool(news["convertPushedImages"]):
            return super().update(id_, olds, news)
        return dynamic.UpdateResult(self._apply(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        session, client = self._connect(props)
        current = client.get_repository_streaming(props["repository"])
        # A missing repository (404) has no switch left; one already off needs no call.
        if current is None or not current.get("convertPushedImages"):
            return
        self._switch(session, client, props, False)


class StreamingArtifact(dynamic.Resource, module="acr", name="StreamingArtifact"):
    """The streaming artifact of `repository@digest` in a registry (created, or found existing)."""

    streamingArtifactDigest: pulumi.Output[str]
    operationId: pulumi.Output[str | None]
    status: pulumi.Output[str]
    reused: pulumi.Output[bool]

    def __init__(
        self,
        resource_name: str,
        *,
        azure: AzureTarget,
        login_server: pulumi.Input[str],
        repository: pulumi.Input[str],
        digest: pulumi.Input[str],
        timeout_minutes: pulumi.Input[int],
        opts: pulumi.ResourceOptions | None = None,
        session_factory: SessionFactory | None = None,
    ):
        super().__init__(
            StreamingArtifactProvider(session_factory),
            resource_name,
            declared_inputs(
                azure,
                timeout_minutes,
                {"loginServer": login_server, "repository": repository, "digest": digest},
                StreamingArtifactProvider.OUTPUTS,
            ),
            opts,
        )

    @property
    def streaming_artifact_digest(self) -> pulumi.Output[str]:
        """Digest of the streaming artifact's (referrer) manifest."""
        return self.streamingArtifactDigest

    @property
    def operation_id(self) -> pulumi.Output[str | None]:
        """The conversion operation; None when an existing artifact was reused."""
        return self.operationId


class RepositoryStreaming(dynamic.Resource, module="acr", name="RepositoryStreaming"):
    """`convertPushedImages` of one repository."""

    convertPushedImages: pulumi.Output[bool]

    def __init__(
        self,
        resource_name: str,
        *,
        azure: AzureTarget,
        login_server: pulumi.Input[str],
        repository: pulumi.Input[str],
        convert_pushed_images: pulumi.Input[bool],
        timeout_minutes: pulumi.Input[int],
        opts: pulumi.ResourceOptions | None = None,
        session_factory: SessionFactory | None = None,
    ):
        super().__init__(
            RepositoryStreamingProvider(session_factory),
            resource_name,
            declared_inputs(
                azure,
                timeout_minutes,
                {"loginServer": login_server, "repository": repository, "convertPushedImages": convert_pushed_images},
            ),
            opts,
        )

    @property
    def convert_pushed_images(self) -> pulumi.Output[bool]:
        return self.convertPushedImages
