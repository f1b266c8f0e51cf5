"""AcrBuild scenarios shared by its tests and the dynamic-provider contracts: constructed ACR Tasks runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from components import dockerfiles
from providers.acr_build import (
    AcrBuildProvider,
)
from tests.conftest import provider_on
from tests.replay import SUBSCRIPTION, TENANT, ReplayTransport, constructed

ARM = (
    f"https://management.azure.com/subscriptions/{SUBSCRIPTION}/resourceGroups/streamab-rg/providers/"
    "Microsoft.ContainerRegistry/registries/streamabx7k2q9"
)


SAS = (
    "https://streamabx7k2q9store.blob.core.windows.net/container/source/202601010000/"
    "b52f12d8-c3d6-4d75-9107-220f0bfc681d.tar.gz?sv=2019-02-02&se=2030-01-01T00%3A00%3A00Z&sr=b&sp=cw"
    "&sig=SIGNATURE-THAT-MUST-NOT-LEAK"
)


RELATIVE = "source/202601010000/b52f12d8-c3d6-4d75-9107-220f0bfc681d.tar.gz"


DIGEST = "sha256:" + "b" * 64


TARGET = "largeimage/test:v1"


DOCKERFILE = dockerfiles.filled_dockerfile(
    "streamabx7k2q9.azurecr.io/library/alpine:3.20@sha256:" + "a" * 64,
    5000,
    1,
    "zero",
    "streamabx7k2q9.azurecr.io/library/busybox:1.37@sha256:" + "c" * 64,
    5000,
)


PROPS = {
    "subscriptionId": SUBSCRIPTION,
    "tenantId": TENANT,
    "resourceGroupName": "streamab-rg",
    "registryName": "streamabx7k2q9",
    "loginServer": "streamabx7k2q9.azurecr.io",
    "target": TARGET,
    "dockerfile": DOCKERFILE,
    "squashSource": None,
    "timeoutMinutes": 60,
    "__provider": "pickled",
}


def run(status: str, **properties: Any) -> dict[str, Any]:
    return {
        "id": f"{ARM}/runs/cb1",
        "name": "cb1",
        "type": "Microsoft.ContainerRegistry/registries/runs",
        "properties": {
            "runId": "cb1",
            "status": status,
            "runType": "QuickBuild",
            "provisioningState": "Succeeded",
            "createTime": "2026-01-01T10:00:00Z",
            "platform": {"os": "linux", "architecture": "amd64"},
            **properties,
        },
    }


def pushed(repository: str = "largeimage/test", tag: str = "v1", digest: str = DIGEST) -> dict[str, Any]:
    return {
        "outputImages": [
            {"registry": "streamabx7k2q9.azurecr.io", "repository": repository, "tag": tag, "digest": digest}
        ]
    }


def upload() -> list:
    return [
        constructed("POST", f"{ARM}/listBuildSourceUploadUrl", 200, {"relativePath": RELATIVE, "uploadUrl": SAS}),
        constructed("PUT", SAS, 201, None, {"x-ms-request-server-encrypted": "true"}),
    ]


def provider_for(transport: ReplayTransport, clock: Iterator[float] | None = None) -> AcrBuildProvider:
    ticks = clock
    return provider_on(AcrBuildProvider, transport, clock=(lambda: next(ticks)) if ticks is not None else None)[0]


def tag_answer(login: str, target: str, digest: str) -> Any:
    """Constructed `GET /acr/v1/{repo}/_tags/{tag}` 200, shaped like test_acr_artifact_streaming.yaml#32."""
    repository, _, tag = target.rpartition(":")
    return constructed(
        "GET",
        f"https://{login}/acr/v1/{repository}/_tags/{tag}",
        200,
        {"registry": login, "imageName": repository, "tag": {"name": tag, "digest": digest, "signed": False}},
    )
