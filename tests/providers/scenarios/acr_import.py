"""ImportedImage scenarios shared by its tests and the dynamic-provider contracts: recorded imports, props."""

from __future__ import annotations

from providers.acr_import import ImportedImageProvider
from tests.conftest import provider_on
from tests.replay import SUBSCRIPTION, TENANT

STREAMING = "test_acr_artifact_streaming.yaml"


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
