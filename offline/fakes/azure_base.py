"""Fakes for the azure-native and random resources every stack declares."""

from __future__ import annotations

from offline.fakes import call_fake, resource_fake

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


@call_fake("azure-native:authorization:getClientConfig")
def client_config(args):
    return {
        "clientId": "11111111-1111-1111-1111-111111111111",
        "objectId": "22222222-2222-2222-2222-222222222222",
        "subscriptionId": SUBSCRIPTION,
        "tenantId": TENANT,
    }


@resource_fake("random:index/randomString:RandomString")
def random_string(name, inputs):
    # Deterministic, like a value already in state: a re-run must not change names.
    return {"result": ("x7k2q9" * 10)[: int(inputs.get("length", 6))]}


@resource_fake("azure-native:resources:ResourceGroup")
def resource_group(name, inputs):
    rg = inputs.get("resourceGroupName", name)
    return {"name": rg, "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{rg}"}
