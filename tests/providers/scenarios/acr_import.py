"""ImportedImage and ExistingImage scenarios shared by their tests and the dynamic-provider contracts."""

from __future__ import annotations

from providers.acr_import import ExistingImageProvider, ImportedImageProvider
from tests.conftest import constructed_auth, provider_on
from tests.replay import SUBSCRIPTION, TENANT, constructed

STREAMING = "test_acr_artifact_streaming.yaml"
DIGEST = "sha256:622731d3e3a16b11a1f318b1c5018d0c44996b4c096b864fe2eac5b8beab535a"


def props(registry: str = "clireg000002", resource_group: str = "clitest.rg000001", **overrides):
    return {
        "subscriptionId": SUBSCRIPTION,
        "tenantId": TENANT,
        "resourceGroupName": resource_group,
        "registryName": registry,
        "loginServer": f"{registry}.azurecr.io",
        "source": "mcr.microsoft.com/azure-cli:2.0",
        "target": "microsoft:azure-cli",
        "timeoutMinutes": 30,
        "__provider": "pickled",
        **overrides,
    }


def provider_for(interactions, clock=None, poll_seconds=0):
    return provider_on(ImportedImageProvider, interactions, clock=clock, poll_seconds=poll_seconds)


def tag(login: str, repository: str, name: str, digest: str, status: int = 200):
    body = (
        {"registry": login, "imageName": repository, "tag": {"name": name, "digest": digest}}
        if status == 200
        else {"errors": [{"code": "TAG_UNKNOWN", "message": "the specified tag does not exist"}]}
    )
    return constructed("GET", f"https://{login}/acr/v1/{repository}/_tags/{name}", status, body)


def existing_props(**overrides):
    return {
        "subscriptionId": SUBSCRIPTION,
        "tenantId": TENANT,
        "loginServer": "streamabx7k2q9.azurecr.io",
        "target": "myapp:v1",
        "timeoutMinutes": 30,
        "__provider": "pickled",
        **overrides,
    }


def existing_provider_for(interactions):
    return provider_on(ExistingImageProvider, interactions)


def existing_tag_read(props, status: int = 200):
    """Constructed: data-plane auth and the tag read (no recording reads streamabx7k2q9)."""
    login = props["loginServer"]
    repository, name = props["target"].rsplit(":", 1)
    return [*constructed_auth(login), tag(login, repository, name, DIGEST, status)]
