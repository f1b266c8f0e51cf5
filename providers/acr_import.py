"""Dynamic resource `ImportedImage`: a public image copied into the registry with ARM `importImage`.

azure-native has no resource for an import (it is an action, `POST .../registries/{name}/importImage`),
so this provider calls it through azure-mgmt-containerregistry's `begin_import_image`, waits for the
long-running operation within `acr-streaming-ab:timeouts.importMinutes`, and then reads the digest the
target tag points to from the registry data plane (`GET /acr/v1/{repo}/_tags/{tag}`).
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi.dynamic as dynamic
from azure.core.exceptions import HttpResponseError
from azure.core.polling.base_polling import BadResponse, BadStatus
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.containerregistry.models import ImportImageParameters, ImportSource
from azure.mgmt.core.polling.arm_polling import ARMPolling

from providers.acr_dataplane import AcrDataPlaneClient
from providers.azure_session import AzureOperationError, AzureSession, SessionFactory, session_for

IMPORT_TIMEOUT_KEY = "timeouts.importMinutes"
IGNORED_IN_DIFF = ("__provider", "timeoutMinutes")
# Docker Hub answers under several names; `docker.io` is the one ACR import documents
# (`-SourceRegistryUri docker.io -SourceImage library/hello-world:latest`).
DOCKER_HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")


class ImportFailedError(AzureOperationError):
    """The import was refused or its operation ended badly; carries ARM's own code and message."""


def import_source(source: str) -> dict[str, str]:
    """`mcr.microsoft.com/azuredocs/azure-vote-front:v1` -> ImportSource fields (`registryUri`, `sourceImage`).

    Official Docker Hub images live under `library/`, which `docker pull alpine` implies but import
    does not: `docker.io/alpine:3.20` becomes `library/alpine:3.20`.
    """
    registry, _, image = source.partition("/")
    if registry in DOCKER_HUB_HOSTS:
        registry = "docker.io"
        repository = image.split("@", 1)[0].rsplit(":", 1)[0]
        if "/" not in repository:
            image = f"library/{image}"
    return {"registryUri": registry, "sourceImage": image}


def _split_target(target: str) -> tuple[str, str]:
    repository, _, tag = target.rpartition(":")
    return repository, tag


class BoundedArmPolling(ARMPolling):
    """ARM polling paced by the session (its clock, sleep and interval) and bounded by the user's timeout.

    azure-core's own loop has no overall limit and sleeps on the transport; going through
    `AzureSession.wait_until` gives the import the same timeout message as every other wait.
    """

    def __init__(self, session: AzureSession, *, timeout_minutes: float, what: str):
        super().__init__(timeout=session.poll_seconds)
        self._session = session
        self._timeout_minutes = timeout_minutes
        self._what = what
        self.last_status_response = None

    def request_status(self, status_link: str):
        response = super().request_status(status_link)
        # Kept to report a failure with the operation's own body.
        self.last_status_response = response.http_response
        return response

    def run(self) -> None:
        def poll() -> str:
            self.update_status()
            return self.status()

        try:
            self._session.wait_until(
                poll, lambda _: self.finished(), timeout_minutes=self._timeout_minutes, what=self._what,
                timeout_key=IMPORT_TIMEOUT_KEY, describe=lambda status: f"ARM operation status {status}",
            )
        except (BadStatus, BadResponse) as err:
            raise ImportFailedError(f"{self._what} failed: {self._last_body_text() or err}") from err
        # A location poll calls any 200 a success; ACR may still say Failed/Canceled in the body.
        body = self._last_body()
        if isinstance(body, dict) and str(body.get("status", "")).lower() in ("failed", "canceled"):
            raise ImportFailedError(f"{self._what} ended {body.get('status')}: {self._last_body_text()}")

    def _last_body(self) -> Any:
        if self.last_status_response is None:
            return None
        try:
            return self.last_status_response.json()
        except ValueError:
            return None

    def _last_body_text(self) -> str:
        body = self._last_body()
        if isinstance(body, dict):
            error = body.get("error") or {}
            if error:
                return f"{error.get('code')}: {error.get('message')}"
            return str(body)
        if self.last_status_response is not None:
            return f"HTTP {self.last_status_response.status_code} {self.last_status_response.text()[:500]}"
        return ""


class ImportedImageProvider(dynamic.ResourceProvider):
    """CRUD for one imported image (`source` copied to `target` in a registry).

    - create: `importImage` with `mode: Force`, so a re-run after the target tag moved (or after a
      failed run that had already written it) overwrites instead of failing with a conflict; waits
      (`timeouts.importMinutes`); then reads the tag's digest from the data plane. A 202 alone is not
      success: the provider always polls the operation's `location` to its end.
    - read: the tag's current digest; a missing tag or repository is gone (empty result), so a
      refresh drops it and the next `up` imports again.
    - diff: another source, target, registry, resource group or subscription replaces; a tenant change
      only changes who calls (in-place update, no API call). When the replacement writes the same
      tag of the same registry the old one is deleted first, or its untag would remove the new image.
    - delete: untags what it imported (`DELETE /acr/v1/{repo}/_tags/{tag}`) if the tag still points
      to the digest it recorded; a tag someone moved since is left alone. The manifest and its layers
      stay, untagged: another tag (or a streaming artifact) may share the digest, and deleting by
      digest would take those with it. They go with the registry.
    """

    REPLACE_ON = ("subscriptionId", "resourceGroupName", "registryName", "loginServer", "source", "target")
    SAME_TAG = ("subscriptionId", "resourceGroupName", "registryName", "loginServer", "target")

    def __init__(self, session_factory: Optional[SessionFactory] = None):
        super().__init__()
        self._session_factory = session_factory

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        session = session_for(props, self._session_factory)
        source, target = props["source"], props["target"]
        registry = props["registryName"]
        what = f"importing {source} into {registry} as {target}"
        arm = ContainerRegistryManagementClient(session.credential, session.subscription_id, **session.client_kwargs())
        fields = import_source(source)
        parameters = ImportImageParameters(
            source=ImportSource(registry_uri=fields["registryUri"], source_image=fields["sourceImage"]),
            target_tags=[target],
            mode="Force",
        )
        polling = BoundedArmPolling(session, timeout_minutes=float(props["timeoutMinutes"]), what=what)
        try:
            arm.registries.begin_import_image(props["resourceGroupName"], registry, parameters,
                                              polling=polling).result()
        except HttpResponseError as err:
            raise ImportFailedError(f"{what} failed: {err.message}") from err

        repository, tag = _split_target(target)
        digest = AcrDataPlaneClient(props["loginServer"], session).get_tag_digest(repository, tag)
        if digest is None:
            raise ImportFailedError(f"{what}: the operation succeeded but {target} is not in the registry")
        ref = f"{props['loginServer']}/{target}"
        return dynamic.CreateResult(ref, {**_inputs(props), "digest": digest, "ref": ref})

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        session = session_for(props, self._session_factory)
        repository, tag = _split_target(props["target"])
        digest = AcrDataPlaneClient(props["loginServer"], session).get_tag_digest(repository, tag)
        if digest is None:
            return dynamic.ReadResult(None, {})
        return dynamic.ReadResult(id_, {**props, "digest": digest, "ref": f"{props['loginServer']}/{props['target']}"})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        changed = [k for k in news if k not in IGNORED_IN_DIFF and olds.get(k) != news.get(k)]
        replaces = [k for k in changed if k in self.REPLACE_ON]
        same_tag = all(olds.get(k) == news.get(k) for k in self.SAME_TAG)
        return dynamic.DiffResult(changes=bool(changed), replaces=replaces,
                                  delete_before_replace=bool(replaces) and same_tag)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult({**_inputs(news), "digest": olds.get("digest"), "ref": olds.get("ref")})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        session = session_for(props, self._session_factory)
        client = AcrDataPlaneClient(props["loginServer"], session)
        repository, tag = _split_target(props["target"])
        current = client.get_tag_digest(repository, tag)
        if current is not None and current == props.get("digest"):
            client.delete_tag(repository, tag)


def _inputs(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k != "__provider"}


class ImportedImage(dynamic.Resource, module="acr", name="ImportedImage"):
    """`source` imported into a registry as `target`; `digest` is what the tag points to after import."""

    digest: pulumi.Output[str]
    ref: pulumi.Output[str]

    def __init__(self, resource_name: str, *, subscription_id: pulumi.Input[str], tenant_id: pulumi.Input[str],
                 resource_group_name: pulumi.Input[str], registry_name: pulumi.Input[str],
                 login_server: pulumi.Input[str], source: pulumi.Input[str], target: pulumi.Input[str],
                 timeout_minutes: pulumi.Input[int], opts: Optional[pulumi.ResourceOptions] = None,
                 session_factory: Optional[SessionFactory] = None):
        super().__init__(
            ImportedImageProvider(session_factory), resource_name,
            {
                "subscriptionId": subscription_id, "tenantId": tenant_id,
                "resourceGroupName": resource_group_name, "registryName": registry_name,
                "loginServer": login_server, "source": source, "target": target,
                "timeoutMinutes": timeout_minutes, "digest": None, "ref": None,
            },
            opts,
        )
