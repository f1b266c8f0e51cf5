"""Dynamic resources `ImportedImage` (an image copied into the registry with ARM `importImage`) and
`ExistingImage` (an image already there: its tag's digest, read and never written).

azure-native has no resource for an import (it is an action, `POST .../registries/{name}/importImage`),
so this provider calls it through azure-mgmt-containerregistry's `begin_import_image`, waits for the
long-running operation within `acr-streaming-ab:timeouts.importMinutes`, and then reads the digest the
target tag points to from the registry data plane (`GET /acr/v1/{repo}/_tags/{tag}`).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.dynamic as dynamic
from azure.core.exceptions import AzureError
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.containerregistry.models import ImportImageParameters, ImportSource, ImportSourceCredentials

from providers.acr_dataplane import AcrDataPlaneClient, repository_and_tag
from providers.base import AzureProvider, AzureTarget, SessionFactory, SessionPolling, declared_inputs, gone, timeout_of
from providers.errors import AzureOperationError, fault_text

TIMEOUT_KEY = "timeouts.importMinutes"
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


# Inputs naming the source's registry and how to sign in there (given only for private sources).
SOURCE_USERNAME = "sourceUsername"
SOURCE_PASSWORD = "sourcePassword"  # a Pulumi secret in the program and in state (additional_secret_outputs)
SOURCE_REGISTRY_ID = "sourceRegistryId"


def import_source_of(props: dict[str, Any]) -> ImportSource:
    """The `source` of importImage, as `az acr import` builds it.

    `--registry <resource id>`: `resourceId` + the image inside that registry; `--username/--password`:
    `registryUri` + `sourceImage` + `credentials`; otherwise `registryUri` + `sourceImage`.
    """
    fields = import_source(props["source"])
    if props.get(SOURCE_REGISTRY_ID):
        return ImportSource(resource_id=props[SOURCE_REGISTRY_ID], source_image=fields["sourceImage"])
    credentials = None
    if props.get(SOURCE_PASSWORD):
        credentials = ImportSourceCredentials(username=props.get(SOURCE_USERNAME), password=props[SOURCE_PASSWORD])
    return ImportSource(registry_uri=fields["registryUri"], source_image=fields["sourceImage"], credentials=credentials)


class ImportedImageProvider(AzureProvider):
    """CRUD for one imported image (`source` copied to `target` in a registry).

    - create: `importImage` with `mode: Force`, so a re-run after the target tag moved (or after a
      failed run that had already written it) overwrites instead of failing with a conflict; waits
      (`timeouts.importMinutes`); then reads the tag's digest from the data plane. A 202 alone is not
      success: the provider always polls the operation's `location` to its end.
    - read: the tag's current digest; a missing tag or repository is gone (empty result), so a
      refresh drops it and the next `up` imports again.
    - diff: another target, registry, resource group or subscription replaces; a tenant change only
      changes who calls (in-place update, no API call). A new `source` updates in place: the same
      Force import into the same tag, so the old image stays tagged until the new one replaces it
      and a failed import (a typo in the source) leaves the working tag as it was.
    - delete: untags what it imported (`DELETE /acr/v1/{repo}/_tags/{tag}`) if the tag still points
      to the digest it recorded; a tag someone moved since is left alone. The manifest and its layers
      stay, untagged: another tag (or a streaming artifact) may share the digest, and deleting by
      digest would take those with it. They go with the registry.
    """

    REPLACE_ON = ("subscriptionId", "resourceGroupName", "registryName", "loginServer", "target")
    OUTPUTS = ("digest", "ref")

    def describe(self, props: dict[str, Any]) -> str:
        return f"the import of {props.get('source')} into {props.get('registryName')} as {props.get('target')}"

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        outs = self._import(props)
        return dynamic.CreateResult(outs["ref"], outs)

    def _import(self, props: dict[str, Any]) -> dict[str, Any]:
        """`importImage` (Force) of `source` into `target`, then the digest the tag points to."""
        session = self._session(props)
        source, target = props["source"], props["target"]
        registry = props["registryName"]
        what = f"importing {source} into {registry} as {target}"
        arm = session.arm_client(ContainerRegistryManagementClient)
        parameters = ImportImageParameters(
            source=import_source_of(props),
            target_tags=[target],
            mode="Force",
        )
        polling = SessionPolling(
            session,
            timeout_minutes=timeout_of(props),
            what=what,
            timeout_key=TIMEOUT_KEY,
            error_type=ImportFailedError,
        )
        try:
            arm.registries.begin_import_image(
                props["resourceGroupName"], registry, parameters, polling=polling
            ).result()
        except AzureError as err:
            raise ImportFailedError(f"{what} failed: {polling.last_body_text() or fault_text(err)}") from None

        repository, tag = repository_and_tag(target)
        digest = AcrDataPlaneClient(props["loginServer"], session).get_tag_digest(repository, tag)
        if digest is None:
            raise ImportFailedError(f"{what}: the operation succeeded but {target} is not in the registry")
        return self.outputs_of(props, digest=digest, ref=f"{props['loginServer']}/{target}")

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        session = self._session(props)
        repository, tag = repository_and_tag(props["target"])
        digest = AcrDataPlaneClient(props["loginServer"], session).get_tag_digest(repository, tag)
        if digest is None:
            return gone()
        return dynamic.ReadResult(id_, {**props, "digest": digest, "ref": f"{props['loginServer']}/{props['target']}"})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        # Another source (or source registry) imports again; a new password alone changes nothing in Azure.
        if olds.get("source") != news.get("source") or olds.get(SOURCE_REGISTRY_ID) != news.get(SOURCE_REGISTRY_ID):
            return dynamic.UpdateResult(self._import(news))
        return super().update(id_, olds, news)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        session = self._session(props)
        client = AcrDataPlaneClient(props["loginServer"], session)
        repository, tag = repository_and_tag(props["target"])
        current = client.get_tag_digest(repository, tag)
        if current is not None and current == props.get("digest"):
            client.delete_tag(repository, tag)


class ImportedImage(dynamic.Resource, module="acr", name="ImportedImage"):
    """`source` imported into a registry as `target`; `digest` is what the tag points to after import."""

    digest: pulumi.Output[str]
    ref: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        azure: AzureTarget,
        resource_group_name: pulumi.Input[str],
        registry_name: pulumi.Input[str],
        login_server: pulumi.Input[str],
        source: pulumi.Input[str],
        target: pulumi.Input[str],
        timeout_minutes: pulumi.Input[int],
        opts: pulumi.ResourceOptions | None = None,
        session_factory: SessionFactory | None = None,
        source_username: pulumi.Input[str] | None = None,
        source_password: pulumi.Input[str] | None = None,
        source_registry_id: pulumi.Input[str] | None = None,
    ):
        inputs: dict[str, Any] = {
            "resourceGroupName": resource_group_name,
            "registryName": registry_name,
            "loginServer": login_server,
            "source": source,
            "target": target,
        }
        # Only what is given: a public import registers exactly the inputs it always had.
        if source_registry_id is not None:
            inputs[SOURCE_REGISTRY_ID] = source_registry_id
        if source_password is not None:
            inputs[SOURCE_USERNAME] = source_username
            inputs[SOURCE_PASSWORD] = pulumi.Output.secret(source_password)
            # The engine echoes inputs into state: the password stays encrypted there too.
            opts = pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=[SOURCE_PASSWORD])
            )
        super().__init__(
            ImportedImageProvider(session_factory),
            resource_name,
            declared_inputs(azure, timeout_minutes, inputs, ImportedImageProvider.OUTPUTS),
            opts,
        )


class ExistingImageMissingError(AzureOperationError):
    """`images[].existing: true` names a tag the registry does not have."""


class ExistingImageProvider(AzureProvider):
    """An image the user put into the registry: create and read follow its tag's digest, delete leaves it.

    Nothing here writes to the registry; the streaming artifact is made from the digest as for an import.
    A tag moved since (a new push) is noticed by `pulumi up --refresh`, which reads the digest again.
    """

    REPLACE_ON = ("subscriptionId", "loginServer", "target")
    OUTPUTS = ("digest", "ref")

    def describe(self, props: dict[str, Any]) -> str:
        return f"the existing image {props.get('target')} in {props.get('loginServer')}"

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        session = self._session(props)
        repository, tag = repository_and_tag(props["target"])
        digest = AcrDataPlaneClient(props["loginServer"], session).get_tag_digest(repository, tag)
        if digest is None:
            raise ExistingImageMissingError(
                f"{props['target']} is not in {props['loginServer']} (images[].existing: true); push or import "
                "it there first, or give the image a source or build instead"
            )
        ref = f"{props['loginServer']}/{props['target']}"
        return dynamic.CreateResult(ref, self.outputs_of(props, digest=digest, ref=ref))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        session = self._session(props)
        repository, tag = repository_and_tag(props["target"])
        digest = AcrDataPlaneClient(props["loginServer"], session).get_tag_digest(repository, tag)
        if digest is None:
            return gone()
        return dynamic.ReadResult(id_, {**props, "digest": digest, "ref": f"{props['loginServer']}/{props['target']}"})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        # Not the stack's to delete: the image was there before and stays after.
        return None


class ExistingImage(dynamic.Resource, module="acr", name="ExistingImage"):
    """`target` as it already is in a registry; `digest` is what the tag points to."""

    digest: pulumi.Output[str]
    ref: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        azure: AzureTarget,
        login_server: pulumi.Input[str],
        target: pulumi.Input[str],
        timeout_minutes: pulumi.Input[int],
        opts: pulumi.ResourceOptions | None = None,
        session_factory: SessionFactory | None = None,
    ):
        super().__init__(
            ExistingImageProvider(session_factory),
            resource_name,
            declared_inputs(
                azure,
                timeout_minutes,
                {"loginServer": login_server, "target": target},
                ExistingImageProvider.OUTPUTS,
            ),
            opts,
        )
