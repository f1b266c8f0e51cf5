"""Mock outputs for the registry side: what Azure would compute (login server, ids, digests)."""

from __future__ import annotations

import hashlib

from offline.fakes import call_fake, resource_fake
from offline.fakes.azure_base import SUBSCRIPTION


def fake_digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


# -- Mocks ------------------------------------------------------------------------------------------
@resource_fake("azure-native:containerregistry:Registry")
def registry(name, inputs):
    registry_name = inputs["registryName"]
    rg = inputs["resourceGroupName"]
    return {
        "name": registry_name,
        "loginServer": f"{registry_name}.azurecr.io",
        "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{rg}/providers/Microsoft.ContainerRegistry/"
        f"registries/{registry_name}",
    }


@call_fake("azure-native:resources:getResourceGroup")
def get_resource_group(args):
    rg = args["resourceGroupName"]
    return {
        "name": rg,
        "location": "westeurope",
        "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{rg}",
        "properties": {"provisioningState": "Succeeded"},
    }


@resource_fake("pulumi-python:dynamic/acr:ImportedImage")
def imported_image(name, inputs):
    # What the tag would point to: stable per target, different between targets.
    return {"digest": fake_digest(inputs["target"]), "ref": f"{inputs['loginServer']}/{inputs['target']}"}


@resource_fake("pulumi-python:dynamic/acr:ExistingImage")
def existing_image(name, inputs):
    # Read, not written: the same fake digest an import of that target would have.
    return imported_image(name, inputs)


@resource_fake("pulumi-python:dynamic/acr:StreamingArtifact")
def streaming_artifact(name, inputs):
    return {
        "streamingArtifactDigest": fake_digest(f"streaming:{inputs['digest']}"),
        "streamingArtifactSubject": inputs["digest"],
        "operationId": name,
        "status": "Succeeded",
        "reused": False,
    }


@resource_fake("pulumi-python:dynamic/acr:RepositoryStreaming")
def repository_streaming(name, inputs):
    return {}
