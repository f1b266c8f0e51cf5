"""TokenCredentials scenarios shared by its tests and the dynamic-provider contracts."""

from __future__ import annotations

from providers.acr_token_credentials import TokenCredentialsProvider
from tests.conftest import provider_on
from tests.replay import SUBSCRIPTION, TENANT, ReplayTransport, constructed

ARM = "https://management.azure.com"


REGISTRY = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/streamab-rg/providers/"
    "Microsoft.ContainerRegistry/registries/streamabx7k2q9"
)


TOKEN_ID = f"{REGISTRY}/tokens/aks-pull-streamab"


API = "?api-version=2025-11-01"


GENERATE = f"{ARM}{REGISTRY}/generateCredentials{API}"


TOKEN = f"{ARM}{TOKEN_ID}{API}"


CREATED = "2026-08-02T10:00:00.1234567+00:00"


def provider_for(transport: ReplayTransport) -> TokenCredentialsProvider:
    return provider_on(TokenCredentialsProvider, transport)[0]


def props(**overrides) -> dict:
    base = {
        "subscriptionId": SUBSCRIPTION,
        "tenantId": TENANT,
        "resourceGroupName": "streamab-rg",
        "registryName": "streamabx7k2q9",
        "tokenId": TOKEN_ID,
        "passwordName": "password1",
        "timeoutMinutes": 45.0,
        "__provider": "serialized-provider",
    }
    base.update(overrides)
    return base


GENERATED = {
    "username": "aks-pull-streamab",
    "passwords": [
        {"name": "password1", "value": "s3cr3t-value", "creationTime": CREATED},
        {"name": "password2", "creationTime": "2026-07-01T00:00:00+00:00"},
    ],
}


def token_body(passwords: list) -> dict:
    return {
        "id": TOKEN_ID,
        "name": "aks-pull-streamab",
        "type": "Microsoft.ContainerRegistry/registries/tokens",
        "properties": {
            "scopeMapId": f"{REGISTRY}/scopeMaps/_repositories_pull",
            "status": "enabled",
            "provisioningState": "Succeeded",
            "credentials": {"certificates": [], "passwords": passwords},
        },
    }


def generate_sequence(location: str) -> list:
    return [
        constructed("POST", GENERATE, 202, None, {"location": location}),
        constructed("GET", location, 200, GENERATED),
    ]


LOCATION = (
    f"{ARM}/subscriptions/{SUBSCRIPTION}/providers/Microsoft.ContainerRegistry/locations/WESTUS3/"
    f"operationResults/registries-5a1d2c3e?api-version=2025-11-01"
)
