"""ExperimentPool scenarios shared by its tests and the dynamic-provider contracts: ARM agent-pool sequences."""

from __future__ import annotations

import json

from components.pool_body import pool_properties
from offline.clock import FakeClock
from providers.aks_agent_pool import ExperimentPoolProvider
from stacks.config import parse_stack_config
from tests.conftest import provider_on
from tests.replay import SUBSCRIPTION, TENANT, ReplayTransport, constructed

ARM = "https://management.azure.com"


CLUSTER_PATH = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/streamab-rg/providers/"
    "Microsoft.ContainerService/managedClusters/streamab-aks"
)


API = "?api-version=2026-08-01"


def pool_url(pool: str) -> str:
    return f"{ARM}{CLUSTER_PATH}/agentPools/{pool}{API}"


def operation_url(op: str) -> str:
    return (
        f"{ARM}/subscriptions/{SUBSCRIPTION}/providers/Microsoft.ContainerService/locations/westus3/"
        f"operations/{op}?api-version=2016-03-30"
    )


def provider_for(transport: ReplayTransport, *, poll_seconds: float = 0, clock: FakeClock | None = None):
    return provider_on(ExperimentPoolProvider, transport, clock=clock or (lambda: 0.0), poll_seconds=poll_seconds)[0]


CONFIG = parse_stack_config({"location": "westus3"})  # storage-matrix: slowart/slownoart/fastart/fastnoart


def props_for(
    pool_name: str, *, cache_generation: int = 0, timeout_minutes: int = 45, version: str | None = "1.33", **overrides
):
    # A pinned version (the upgrade paths need one); the default config pins none (test below).
    pool = CONFIG.pool(pool_name)
    properties = pool_properties(pool, version)
    properties.update(overrides)
    # As the engine hands them to a dynamic provider: every number a float.
    return json.loads(
        json.dumps(
            {
                "subscriptionId": SUBSCRIPTION,
                "tenantId": TENANT,
                "resourceGroupName": "streamab-rg",
                "clusterName": "streamab-aks",
                "poolName": pool_name,
                "properties": properties,
                "cacheGeneration": cache_generation,
                "timeoutMinutes": timeout_minutes,
                "__provider": "serialized-provider",
            }
        ),
        parse_int=float,
    )


def arm_pool(props: dict, *, state: str = "Succeeded", **extra_properties) -> dict:
    """An agent pool as AKS returns it: our properties plus what AKS adds."""
    properties = json.loads(json.dumps(props["properties"]), parse_float=lambda s: int(float(s)))
    properties.update(
        {
            "provisioningState": state,
            "powerState": {"code": "Running"},
            "maxPods": 250,
            "currentOrchestratorVersion": "1.33.2",
            "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202608.01.0",
            "enableFIPS": False,
            "upgradeSettings": {"maxSurge": "10%"},
            "eTag": "4f3a2b1c",
        }
    )
    properties.update(extra_properties)
    return {
        "id": f"{CLUSTER_PATH}/agentPools/{props['poolName']}",
        "name": props["poolName"],
        "type": "Microsoft.ContainerService/managedClusters/agentPools",
        "properties": properties,
    }


def put_sequence(props: dict, op: str, *, status: int = 201, final: dict | None = None, polls: int = 1):
    """PUT -> (InProgress x polls) -> Succeeded -> GET resource, as in the recorded registry create."""
    body = arm_pool(props, state="Creating" if status == 201 else "Updating")
    seq = [
        constructed(
            "PUT",
            pool_url(props["poolName"]),
            status,
            body,
            {"azure-asyncoperation": operation_url(op), "content-type": "application/json"},
        )
    ]
    for _ in range(polls):
        seq.append(
            constructed(
                "GET", operation_url(op), 200, {"name": op, "status": "InProgress", "startTime": "2026-08-02T10:00:00Z"}
            )
        )
    seq.append(
        constructed(
            "GET",
            operation_url(op),
            200,
            {"name": op, "status": "Succeeded", "startTime": "2026-08-02T10:00:00Z", "endTime": "2026-08-02T10:03:41Z"},
        )
    )
    seq.append(constructed("GET", pool_url(props["poolName"]), 200, final or arm_pool(props)))
    return seq
