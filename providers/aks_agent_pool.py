"""Dynamic resource `ExperimentPool`: an AKS agent pool with `artifactStreamingProfile`.

Design notes: docs/providers.md ("providers/aks_agent_pool.py").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import pulumi
import pulumi.dynamic
from azure.core.exceptions import HttpResponseError
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, UpdateResult

from providers.base import (
    AzureProvider,
    AzureSession,
    AzureTarget,
    SessionFactory,
    SessionPolling,
    changed_keys,
    declared_inputs,
    gone,
    integral_numbers,
    is_unknown,
    raw_json,
    timeout_of,
)
from providers.errors import AzureOperationError, azure_call, azure_error_text, retry_after_seconds

TIMEOUT_KEY = "timeouts.poolMinutes"
# Properties AKS refuses to change on an existing pool. Sources:
# - vmSize: AKS "manage node pools" limitations ("You can't change the VM size of a node pool after you
#   create it"); ARM answers 400 PropertyChangeNotAllowed "Changing property 'properties.vmSize' is not
#   allowed" (pulumi/pulumi-azure-native#959, fixed by replacement in #3655).
# - osDiskType, osDiskSizeGB, osSKU: ForceNew in terraform-provider-azurerm's node pool (only rotatable
#   through a temporary pool, hashicorp/terraform-provider-azurerm#21719); an in-place OS SKU migration
#   exists for some Ubuntu -> Azure Linux moves but reimages every node anyway, so for an experiment
#   a fresh pool is the same outcome with predictable semantics.
# - osType, type, workloadRuntime: fixed at creation (no update flag exists for any of them).
# Everything else we send (count, nodeLabels, nodeTaints, orchestratorVersion, mode and
# artifactStreamingProfile) is updated in place; for artifactStreamingProfile see
# docs/providers.md, "providers/aks_agent_pool.py" (enable/disable on existing pools is documented, and the provider
# recycles the nodes afterwards).
REPLACE_ON_CHANGE = ("vmSize", "osDiskType", "osDiskSizeGB", "osSKU", "osType", "type", "workloadRuntime")

# A change of these makes the provider recycle the pool's nodes (scale to 0 and back) after applying
# it, so that every node of the arm booted with the new setting.
RECYCLE_ON_CHANGE = ("artifactStreamingProfile",)

# 409s that mean "busy, try again": AKS's AnotherOperationInProgress, and OperationNotAllowed or
# EtagMismatch only when the message says another operation is in progress (the same codes also
# refuse quota and unsupported changes, or a real concurrent edit, which no wait fixes);
# EtagMismatch "Operation is not allowed because there's an in progress ... operation": Azure/terraform-azurerm-aks#604.
BUSY_CODE = "AnotherOperationInProgress"
BUSY_WHEN_SAID = ("OperationNotAllowed", "EtagMismatch")
BUSY_MESSAGE = re.compile(r"(?i)\b(another|an?\s+existing|ongoing|in[- ]progress)\b.*\b(operation|in progress)\b")
MAX_CONFLICT_ATTEMPTS = 20
CONFLICT_BACKOFF_SECONDS = 15.0
CONFLICT_BACKOFF_MAX_SECONDS = 120.0

T = TypeVar("T")


def pool_resource_id(subscription_id: str, resource_group: str, cluster: str, pool: str) -> str:
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/"
        f"Microsoft.ContainerService/managedClusters/{cluster}/agentPools/{pool}"
    )


def is_busy(error: HttpResponseError) -> bool:
    """A 409 that says AKS is running another operation on the cluster (so waiting helps)."""
    if error.status_code != 409:
        return False
    odata = getattr(error, "error", None)
    code = getattr(odata, "code", None)
    if code == BUSY_CODE:
        return True
    message = getattr(odata, "message", None) or error.message or ""
    return code in BUSY_WHEN_SAID and bool(BUSY_MESSAGE.search(message))


def call_with_conflict_retry(session: AzureSession, start: Callable[[], T], *, what: str, deadline: float) -> T:
    """Run `start` (which sends an operation's initial request), retrying while AKS is busy.

    Only a busy 409 (`is_busy`) is retried; any other error is raised at once with Azure's message.
    Waits follow Retry-After (else an exponential backoff), never past `deadline`, the end of the
    operation's one budget (`timeouts.poolMinutes`), which the polling afterwards shares.
    """
    attempt = 0
    while True:
        try:
            return start()
        except HttpResponseError as error:
            if not is_busy(error):
                raise
            attempt += 1
            delay = retry_after_seconds(error)
            if delay is None:
                delay = min(CONFLICT_BACKOFF_MAX_SECONDS, CONFLICT_BACKOFF_SECONDS * 2 ** (attempt - 1))
            remaining = deadline - session.clock()
            if attempt >= MAX_CONFLICT_ATTEMPTS or remaining <= 0:
                raise AzureOperationError(
                    f"{what}: AKS was still busy with another operation after {attempt} attempts "
                    f"({azure_error_text(error)}). Wait for it to finish (az aks nodepool list), or raise "
                    f"acr-streaming-ab:{TIMEOUT_KEY}, and run `pulumi up` again."
                ) from None
            # A Retry-After longer than what is left of the budget is cut to it: one last try at the end.
            session.sleep(min(delay, remaining))


def same_version(current: Any, wanted: Any) -> bool:
    """`1.33.2` is what AKS runs for a requested `1.33`: the same version for our purposes."""
    if not isinstance(current, str) or not isinstance(wanted, str):
        return current == wanted
    return current == wanted or current.startswith(wanted + ".")


def project_properties(current: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any]:
    """The pool's current ARM values for the keys we manage, in the shape of `desired`.

    Only managed keys are reported (AKS fills many others with defaults we never asked for: they must
    not show up as drift). AKS omits `artifactStreamingProfile` (or returns null) on pools where it was
    never enabled, which means disabled. `orchestratorVersion` may be returned with its patch when we
    asked for a minor only; the same minor is no drift.
    """
    projected: dict[str, Any] = {}
    for key, wanted in desired.items():
        value = current.get(key)
        if key == "artifactStreamingProfile":
            value = {"enabled": bool((value or {}).get("enabled", False))}
        elif key == "orchestratorVersion" and same_version(value, wanted):
            value = wanted
        elif key == "nodeLabels":
            value = dict(value or {})
        elif key == "nodeTaints":
            value = list(value or [])
        projected[key] = value
    return projected


def update_steps(
    old: dict[str, Any], desired: dict[str, Any], live: dict[str, Any], recycle: bool
) -> list[tuple[str, dict[str, Any]]]:
    """The PUTs of an update, in order, each asking AKS for one kind of change only.

    AKS runs either an upgrade or a scale at a time, and a streaming flip reimages by itself: a
    recycle scales to 0 with the old settings, applies the change with no nodes, then scales back.
    A new version with a new count (no recycle) upgrades at the live count first, then scales.
    """
    count, live_count = desired.get("count"), live.get("count")
    wanted_version = desired.get("orchestratorVersion")
    upgrade = wanted_version is not None and not same_version(live.get("orchestratorVersion"), wanted_version)
    if not recycle:
        if upgrade and live_count != count:
            return [("upgrading", {**desired, "count": live_count}), ("updating", desired)]
        return [("updating", desired)]
    steps = []
    if live_count:
        # The old settings at the version the pool runs: a pure scale-down, no upgrade, no flip.
        version = live.get("orchestratorVersion") or old.get("orchestratorVersion")
        running = {"orchestratorVersion": version} if "orchestratorVersion" in old else {}
        steps.append(("recycling nodes (scale to 0)", {**old, **running, "count": 0}))
    if upgrade or {**old, "count": 0} != {**desired, "count": 0}:
        steps.append(("applying the change with no nodes", {**desired, "count": 0}))
    if count:
        steps.append(("recycling nodes (scale back up)", desired))
    # A parked pool with nothing to change: one PUT of what is declared, as any update.
    return steps or [("updating", desired)]


def diff_pool(olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
    """Update vs replace for ExperimentPool; `olds` are the previous outputs, `news` the new inputs.

    The top-level inputs diff as everywhere; `properties` key by key, replacing on `REPLACE_ON_CHANGE`.
    """
    top = ExperimentPoolProvider
    changes = [k for k in changed_keys(olds, news, ignore=(*top.OUTPUTS, "properties")) if k in news]
    replaces = [k for k in changes if k in top.REPLACE_ON]
    old_props = olds.get("properties") or {}
    new_props = news.get("properties")
    if is_unknown(new_props):
        changes.append("properties")
        replaces.append("properties")
    else:
        new_props = new_props or {}
        for key in sorted(set(old_props) | set(new_props)):
            new_value = new_props.get(key)
            if is_unknown(new_value) or old_props.get(key) != new_value:
                changes.append(f"properties.{key}")
                if key in REPLACE_ON_CHANGE:
                    replaces.append(f"properties.{key}")
    return DiffResult(changes=bool(changes), replaces=replaces, stables=[], delete_before_replace=True)


class ExperimentPoolProvider(AzureProvider):
    # Where the pool is: a change means a different pool. (`tenantId` only picks the credential: a change
    # updates in place.)
    REPLACE_ON = ("subscriptionId", "resourceGroupName", "clusterName", "poolName")
    OUTPUTS = ("provisioningState", "currentOrchestratorVersion", "nodeImageVersion")

    # Plumbing ---------------------------------------------------------------------------------
    @staticmethod
    def _client(session: AzureSession):
        # Imported here: the pickled provider must not need the SDK until it actually talks to Azure.
        from azure.mgmt.containerservice import ContainerServiceClient

        return session.arm_client(ContainerServiceClient)

    @staticmethod
    def _what(props: dict[str, Any]) -> str:
        return f"agent pool {props['poolName']} of AKS cluster {props['clusterName']}"

    def describe(self, props: dict[str, Any]) -> str:
        return f"agent pool {props.get('poolName')} of AKS cluster {props.get('clusterName')}"

    def _get(self, session: AzureSession, props: dict[str, Any]) -> dict[str, Any] | None:
        client = self._client(session)
        return azure_call(
            f"reading {self._what(props)}",
            lambda: client.agent_pools.get(
                props["resourceGroupName"], props["clusterName"], props["poolName"], cls=raw_json
            ),
            missing_ok=True,
        )

    def _run(self, session: AzureSession, props: dict[str, Any], what: str, start, missing_ok: bool = False) -> Any:
        """One agent-pool long-running operation: retried while AKS is busy (409), bounded, awaited.

        `start(client, polling)` begins it; HTTP errors surface with Azure's own code and message,
        except a 404 when `missing_ok` (deleting what is already gone), which returns None.
        """
        client = self._client(session)
        deadline = session.clock() + timeout_of(props) * 60
        polling = SessionPolling(
            session, timeout_minutes=timeout_of(props), what=what, timeout_key=TIMEOUT_KEY, deadline=deadline
        )
        return azure_call(
            what,
            lambda: call_with_conflict_retry(
                session, lambda: start(client, polling), what=what, deadline=deadline
            ).result(),
            missing_ok=missing_ok,
        )

    def _put(self, session: AzureSession, props: dict[str, Any], body: dict[str, Any], step: str) -> dict[str, Any]:
        from azure.mgmt.containerservice.models import AgentPool

        return self._run(
            session,
            props,
            f"{step} of {self._what(props)}",
            lambda client, polling: client.agent_pools.begin_create_or_update(
                props["resourceGroupName"],
                props["clusterName"],
                props["poolName"],
                # As the SDK model: the body is serialized by the SDK, as `az aks nodepool` does.
                AgentPool(body),
                polling=polling,
                cls=raw_json,
            ),
        )

    def _outputs(self, props: dict[str, Any], pool: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
        current = pool.get("properties") or {}
        return self.outputs_of(props, properties=properties, **{k: current.get(k) for k in self.OUTPUTS})

    # CRUD -------------------------------------------------------------------------------------
    def create(self, props: dict[str, Any]) -> CreateResult:
        props = integral_numbers(props)
        session = self._session(props)
        desired = props["properties"]
        pool = self._put(session, props, {"properties": desired}, "creating")
        pool_id = pool.get("id") or pool_resource_id(
            props["subscriptionId"], props["resourceGroupName"], props["clusterName"], props["poolName"]
        )
        return CreateResult(pool_id, self._outputs(props, pool, desired))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = integral_numbers(props)
        session = self._session(props)
        pool = self._get(session, props)
        if pool is None:
            return gone()
        current = pool.get("properties") or {}
        return ReadResult(id_, self._outputs(props, pool, project_properties(current, props["properties"])))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return diff_pool(integral_numbers(olds), integral_numbers(news))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        olds, news = integral_numbers(olds), integral_numbers(news)
        desired = news["properties"]
        old_properties = olds.get("properties") or {}
        if old_properties == desired and olds.get("cacheGeneration") == news.get("cacheGeneration"):
            # Only the tenant changed (it picks the credential, nothing in Azure): no pool operation.
            return super().update(_id, olds, news)
        session = self._session(news)
        recycle = olds.get("cacheGeneration") != news.get("cacheGeneration") or any(
            old_properties.get(key) != desired.get(key) for key in RECYCLE_ON_CHANGE
        )
        current = self._get(session, news)
        if current is None:
            raise AzureOperationError(
                f"{self._what(news)} no longer exists; run `pulumi refresh` and then `pulumi up` to create it again"
            )

        pool = current
        for step, properties in update_steps(old_properties, desired, current.get("properties") or {}, recycle):
            # Only what the project declares: echoing the GET would send back nodeImageVersion
            # (writable in 2026-08-01: a node image rollback) and explicit nulls.
            pool = self._put(session, news, {"properties": properties}, step)
        return UpdateResult(self._outputs(news, pool, desired))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        props = integral_numbers(props)
        self._run(
            self._session(props),
            props,
            f"deleting {self._what(props)}",
            lambda client, polling: client.agent_pools.begin_delete(
                props["resourceGroupName"], props["clusterName"], props["poolName"], polling=polling
            ),
            missing_ok=True,
        )


class ExperimentPool(pulumi.dynamic.Resource, module="aks", name="ExperimentPool"):
    """An experiment agent pool; `properties` is the ARM body (see components/pool_body.py)."""

    properties: pulumi.Output[dict]
    provisioningState: pulumi.Output[str]
    currentOrchestratorVersion: pulumi.Output[str]
    nodeImageVersion: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        azure: AzureTarget,
        resource_group_name: pulumi.Input[str],
        cluster_name: pulumi.Input[str],
        pool_name: str,
        properties: dict[str, Any],
        cache_generation: int,
        timeout_minutes: int,
        opts: pulumi.ResourceOptions | None = None,
        session_factory: SessionFactory | None = None,
    ):
        props = declared_inputs(
            azure,
            timeout_minutes,
            {
                "resourceGroupName": resource_group_name,
                "clusterName": cluster_name,
                "poolName": pool_name,
                "properties": properties,
                "cacheGeneration": cache_generation,
            },
            ExperimentPoolProvider.OUTPUTS,
        )
        # Pool names are unique in a cluster, so a replacement must delete the old pool first.
        opts = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(delete_before_replace=True), opts)
        super().__init__(ExperimentPoolProvider(session_factory), resource_name, props, opts)
