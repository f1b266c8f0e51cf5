"""ExperimentPool provider replayed against ARM HTTP sequences.

Design notes: docs/verification.md ("tests/providers/test_aks_agent_pool.py").
"""

from __future__ import annotations

import copy
import json

import pytest

from offline.clock import FakeClock
from providers.aks_agent_pool import ExperimentPoolProvider, diff_pool, update_steps
from providers.errors import AzureOperationError, WaitTimeoutError
from tests.providers.scenarios.aks_agent_pool import (
    ARM,
    CLUSTER_PATH,
    arm_pool,
    operation_url,
    pool_url,
    props_for,
    provider_for,
    put_sequence,
)
from tests.replay import ReplayTransport, constructed, recorded


def integral(value):
    return json.loads(json.dumps(value), parse_float=lambda s: int(float(s)))


def puts(transport: ReplayTransport) -> list:
    return [r for r in transport.sent if r.method == "PUT"]


# ------------------------------------------------------------------------------------------------
def test_constructed_create_follows_the_recorded_lro_shape():
    """The constructed create has the recorded registry create's shape (methods, statuses, headers)."""
    rec = recorded("test_acr_artifact_streaming.yaml", [0, 1, 2, 3])
    ours = put_sequence(props_for("fastart"), "op-create")
    assert [(i.method, i.status) for i in rec] == [(i.method, i.status) for i in ours]
    assert "azure-asyncoperation" in rec[0].response_headers and "azure-asyncoperation" in ours[0].response_headers
    assert rec[1].uri.split("?")[0] == rec[0].response_headers["azure-asyncoperation"].split("?")[0]
    assert ours[1].uri == ours[0].response_headers["azure-asyncoperation"]
    assert rec[-1].response_body["properties"]["provisioningState"] == "Succeeded"
    assert ours[-1].response_body["properties"]["provisioningState"] == "Succeeded"


def test_create_puts_the_configured_body_with_artifact_streaming_and_waits_for_the_operation():
    props = props_for("fastart")
    transport = ReplayTransport(put_sequence(props, "op-create", polls=2))
    result = provider_for(transport).create(props)

    (put,) = puts(transport)
    assert put.body == {
        "properties": {
            "count": 1,
            "vmSize": "Standard_D4ds_v5",
            "osType": "Linux",
            "osSKU": "Ubuntu",
            "osDiskType": "Ephemeral",
            "osDiskSizeGB": 128,
            "type": "VirtualMachineScaleSets",
            "mode": "User",
            "orchestratorVersion": "1.33",
            "nodeLabels": {"streaming-ab/pool": "fastart", "streaming-ab/streaming": "true"},
            "nodeTaints": ["streaming-ab/pool=fastart:NoSchedule"],
            "workloadRuntime": "OCIContainer",
            "artifactStreamingProfile": {"enabled": True},
        }
    }
    assert isinstance(put.body["properties"]["count"], int)  # 1, not Pulumi's 1.0
    assert transport.unused() == []
    assert [r.method for r in transport.sent] == ["PUT", "GET", "GET", "GET", "GET"]
    assert result.id == f"{CLUSTER_PATH}/agentPools/fastart"
    assert result.outs["provisioningState"] == "Succeeded"
    assert result.outs["currentOrchestratorVersion"] == "1.33.2"
    assert result.outs["properties"]["artifactStreamingProfile"] == {"enabled": True}
    assert "__provider" not in result.outs


def test_standard_arm_sends_streaming_explicitly_off_and_keeps_aks_default_disk_size():
    props = props_for("slownoart")
    transport = ReplayTransport(put_sequence(props, "op-std"))
    provider_for(transport).create(props)
    body = puts(transport)[0].body["properties"]
    assert body["artifactStreamingProfile"] == {"enabled": False}
    assert body["osDiskType"] == "Managed" and "osDiskSizeGB" not in body
    assert body["vmSize"] == "Standard_D2_v5"


def test_read_returns_the_managed_properties_in_the_input_shape():
    props = props_for("slownoart")
    # AKS leaves artifactStreamingProfile null on pools where it was never enabled, and someone scaled
    # the pool by hand to 3: only the latter is drift.
    live = arm_pool(props, count=3, artifactStreamingProfile=None, orchestratorVersion="1.33.2")
    transport = ReplayTransport([constructed("GET", pool_url("slownoart"), 200, live)])
    result = provider_for(transport).read(f"{CLUSTER_PATH}/agentPools/slownoart", props)

    assert result.id == f"{CLUSTER_PATH}/agentPools/slownoart"
    assert set(result.outs["properties"]) == set(props["properties"])  # nothing AKS-defaulted leaks in
    assert result.outs["properties"]["count"] == 3
    assert result.outs["properties"]["artifactStreamingProfile"] == {"enabled": False}
    assert result.outs["properties"]["orchestratorVersion"] == "1.33"
    diff = diff_pool(result.outs, props)
    assert diff.changes and diff.replaces == []


def test_read_notices_a_deleted_pool():
    props = props_for("fastart")
    transport = ReplayTransport(
        [
            constructed(
                "GET",
                pool_url("fastart"),
                404,
                {
                    "error": {
                        "code": "NotFound",
                        "message": "Could not find agent pool fastart in cluster streamab-aks.",
                    }
                },
            )
        ]
    )
    result = provider_for(transport).read("some-id", props)
    assert result.id is None and result.outs == {}


def test_scale_updates_in_place_sending_only_the_properties_the_project_owns():
    olds = props_for("fastart")
    news = props_for("fastart", count=3)
    # What AKS adds (and a null it answers with): none of it may be echoed back in the PUT.
    current = arm_pool(olds, kubeletConfig=None)
    transport = ReplayTransport(
        [constructed("GET", pool_url("fastart"), 200, current), *put_sequence(news, "op-scale", status=200)]
    )
    result = provider_for(transport).update("id", olds, news)

    (put,) = puts(transport)
    sent = put.body["properties"]
    assert sent == integral(news["properties"])  # exactly the declared body, count 3
    # nodeImageVersion is writable in API 2026-08-01 (sending it back starts a node image rollback).
    for not_ours in ("nodeImageVersion", "maxPods", "upgradeSettings", "kubeletConfig", "provisioningState", "eTag"):
        assert not_ours not in sent
    assert None not in sent.values()
    assert "id" not in put.body and "name" not in put.body
    assert result.outs["properties"]["count"] == 3
    assert transport.unused() == []


def test_upgrade_and_scale_are_two_operations():
    """AKS refuses to upgrade and scale a pool at once: the version goes first, at the current count."""
    olds = props_for("fastart")
    news = props_for("fastart", count=2, orchestratorVersion="1.34")
    upgraded = copy.deepcopy(news)
    upgraded["properties"]["count"] = 1
    transport = ReplayTransport(
        [
            constructed("GET", pool_url("fastart"), 200, arm_pool(olds)),
            *put_sequence(upgraded, "op-upgrade", status=200),
            *put_sequence(news, "op-scale", status=200),
        ]
    )
    provider_for(transport).update("id", olds, news)
    assert [(p.body["properties"]["orchestratorVersion"], p.body["properties"]["count"]) for p in puts(transport)] == [
        ("1.34", 1),
        ("1.34", 2),
    ]

    # A version AKS reports with its patch is the one we asked for: a plain scale stays one PUT.
    plain = ReplayTransport(
        [
            constructed("GET", pool_url("fastart"), 200, arm_pool(olds, orchestratorVersion="1.33.2")),
            *put_sequence(props_for("fastart", count=2), "op-scale-only", status=200),
        ]
    )
    provider_for(plain).update("id", olds, props_for("fastart", count=2))
    assert [p.body["properties"]["count"] for p in puts(plain)] == [2]


def test_cache_reset_scales_to_zero_waits_then_back_to_the_count():
    olds = props_for("fastnoart", cache_generation=0)
    news = props_for("fastnoart", cache_generation=1)
    zero = copy.deepcopy(news)
    zero["properties"]["count"] = 0
    transport = ReplayTransport(
        [
            constructed("GET", pool_url("fastnoart"), 200, arm_pool(olds)),
            *put_sequence(zero, "op-down", status=200, polls=3),
            *put_sequence(news, "op-up", status=200),
        ]
    )
    provider_for(transport).update("id", olds, news)

    assert [p.body["properties"]["count"] for p in puts(transport)] == [0, 1]
    methods = [(r.method, r.url.split("?")[0].rsplit("/", 1)[-1]) for r in transport.sent]
    # The scale-up is only sent after the scale-down operation reported Succeeded (its last poll).
    put_indices = [i for i, m in enumerate(methods) if m == ("PUT", "fastnoart")]
    last_down_poll = max(i for i, m in enumerate(methods) if m == ("GET", "op-down"))
    assert transport.sent[last_down_poll].answered_by == "constructed"
    assert put_indices[1] > last_down_poll
    assert transport.unused() == []


def test_cache_reset_of_a_parked_pool_is_a_single_put():
    olds = props_for("fastnoart", cache_generation=0, count=0)
    news = props_for("fastnoart", cache_generation=1, count=0)
    transport = ReplayTransport(
        [constructed("GET", pool_url("fastnoart"), 200, arm_pool(olds)), *put_sequence(news, "op-park", status=200)]
    )
    provider_for(transport).update("id", olds, news)
    assert [p.body["properties"]["count"] for p in puts(transport)] == [0]


def test_turning_streaming_on_in_place_scales_down_flips_with_no_nodes_then_scales_up():
    """No PUT both scales and flips streaming (AKS: upgrade or scale at a time; a flip reimages): the
    scale-down keeps the old setting, the flip goes out at count 0, the scale-up changes only the count."""
    olds = props_for("fastnoart")
    news = props_for("fastnoart", artifactStreamingProfile={"enabled": True})
    old_zero, flipped_zero = copy.deepcopy(olds), copy.deepcopy(news)
    old_zero["properties"]["count"] = flipped_zero["properties"]["count"] = 0
    transport = ReplayTransport(
        [
            constructed("GET", pool_url("fastnoart"), 200, arm_pool(olds)),
            *put_sequence(old_zero, "op-down", status=200),
            *put_sequence(flipped_zero, "op-flag", status=200),
            *put_sequence(news, "op-flag-up", status=200),
        ]
    )
    provider_for(transport).update("id", olds, news)
    bodies = [p.body["properties"] for p in puts(transport)]
    assert [(b["count"], b["artifactStreamingProfile"]) for b in bodies] == [
        (0, {"enabled": False}),
        (0, {"enabled": True}),
        (1, {"enabled": True}),
    ]
    assert transport.unused() == []


def test_no_recycle_step_both_scales_and_changes_a_setting():
    """A cache reset that also upgrades, flips streaming and rescales: every PUT is either a pure
    scale (only `count` differs from the PUT before, or from the live pool) or has no nodes."""
    old = integral(props_for("fastnoart", version="1.32")["properties"])
    desired = {**old, "orchestratorVersion": "1.33", "artifactStreamingProfile": {"enabled": True}, "count": 3}
    live = {**old, "orchestratorVersion": "1.32.7"}
    steps = update_steps(old, desired, live, recycle=True)
    assert [name for name, _ in steps] == [
        "recycling nodes (scale to 0)",
        "applying the change with no nodes",
        "recycling nodes (scale back up)",
    ]
    down, change, up = (body for _, body in steps)
    assert down == {**old, "orchestratorVersion": "1.32.7", "count": 0}
    assert change == {**desired, "count": 0} and up == desired
    # Without the recycle a version with a new count is still two operations: upgrade, then scale.
    assert [body["count"] for _, body in update_steps(old, desired, live, recycle=False)] == [old["count"], 3]
    # A reset alone never sends a settings step; a parked pool with nothing to change gets one PUT.
    assert [n for n, _ in update_steps(old, old, old, recycle=True)] == [
        "recycling nodes (scale to 0)",
        "recycling nodes (scale back up)",
    ]
    parked = {**old, "count": 0}
    assert update_steps(parked, parked, parked, recycle=True) == [("updating", parked)]


def test_delete_waits_for_the_operation_and_tolerates_a_missing_pool():
    props = props_for("slowart")
    transport = ReplayTransport(
        [
            constructed(
                "DELETE",
                pool_url("slowart"),
                202,
                None,
                {"azure-asyncoperation": operation_url("op-del"), "location": operation_url("op-del-loc")},
            ),
            constructed("GET", operation_url("op-del"), 200, {"name": "op-del", "status": "InProgress"}),
            constructed("GET", operation_url("op-del"), 200, {"name": "op-del", "status": "Succeeded"}),
        ]
    )
    provider_for(transport).delete("id", props)
    assert [r.method for r in transport.sent] == ["DELETE", "GET", "GET"] and transport.unused() == []

    gone = ReplayTransport(
        [
            constructed(
                "DELETE",
                pool_url("slowart"),
                404,
                {"error": {"code": "NotFound", "message": "agent pool slowart not found"}},
            )
        ]
    )
    provider_for(gone).delete("id", props)
    assert len(gone.sent) == 1


BUSY = {
    "error": {
        "code": "OperationNotAllowed",
        "message": (
            "Operation is not allowed: Another agentpool operation (slowart - Creating) is in progress, please "
            "wait for it to finish before starting a new operation. See https://aka.ms/aks-pending-operation for "
            "more details"
        ),
    }
}


def test_conflict_409_is_retried_until_aks_is_free():
    """Every 409 goes to the provider's own loop (BoundedRetryPolicy leaves conflicts to it): it waits
    the Retry-After when there is one, else the backoff of the attempt (15 s, 30 s, ...), and sends the
    PUT again."""
    props = props_for("slownoart")
    transport = ReplayTransport(
        [
            constructed("PUT", pool_url("slownoart"), 409, BUSY, {"Retry-After": "30"}),
            constructed(
                "PUT",
                pool_url("slownoart"),
                409,
                {"error": {"code": "AnotherOperationInProgress", "message": "Another operation is in progress"}},
            ),
            *put_sequence(props, "op-after-409"),
        ]
    )
    result = provider_for(transport).create(props)
    assert len(puts(transport)) == 3
    assert transport.sleeps[:2] == [30.0, 30.0]
    assert result.outs["provisioningState"] == "Succeeded"
    assert transport.unused() == []


def test_an_etag_mismatch_about_an_operation_in_progress_is_busy_and_a_real_one_is_not():
    """Constructed 409 EtagMismatch bodies: the one AKS sends while another operation runs
    (Azure/terraform-azurerm-aks#604) is waited out like OperationNotAllowed; a plain etag conflict fails."""
    props = props_for("slownoart")
    in_progress = {
        "error": {
            "code": "EtagMismatch",
            "message": "Operation is not allowed because there's an in progress create node pool operation",
        }
    }
    transport = ReplayTransport(
        [constructed("PUT", pool_url("slownoart"), 409, in_progress), *put_sequence(props, "op-after-etag")]
    )
    provider_for(transport).create(props)
    assert len(puts(transport)) == 2 and transport.unused() == []

    stale = {"error": {"code": "EtagMismatch", "message": "The etag '4f3a' does not match the resource's etag."}}
    transport = ReplayTransport([constructed("PUT", pool_url("slownoart"), 409, stale)])
    with pytest.raises(AzureOperationError, match="EtagMismatch: The etag"):
        provider_for(transport).create(props)
    assert len(puts(transport)) == 1


def test_conflict_retries_stop_at_the_configured_limit_with_azures_message():
    props = props_for("slownoart", timeout_minutes=1)
    transport = ReplayTransport([constructed("PUT", pool_url("slownoart"), 409, BUSY) for _ in range(4)])
    clock = FakeClock(on_sleep=transport.sleep)
    with pytest.raises(AzureOperationError) as raised:
        provider_for(transport, clock=clock).create(props)
    message = str(raised.value)
    assert "Another agentpool operation (slowart - Creating) is in progress" in message
    assert "timeouts.poolMinutes" in message
    # Backoff 15 s, 30 s; the next 60 s is cut to the 15 s left of the 1-minute budget, a last try then.
    assert transport.sleeps == [15.0, 30.0, 15.0]
    assert len(puts(transport)) == 4


def test_a_quota_refusal_with_the_busy_code_fails_at_once():
    props = props_for("slownoart")
    quota = {
        "error": {
            "code": "OperationNotAllowed",
            "message": "Operation could not be completed as it results in exceeding approved standardDDSv5Family "
            "Cores quota. Current Limit: 10, Current Usage: 8, Additional Required: 4.",
        }
    }
    transport = ReplayTransport([constructed("PUT", pool_url("slownoart"), 409, quota)])
    with pytest.raises(AzureOperationError) as raised:
        provider_for(transport).create(props)
    assert "exceeding approved standardDDSv5Family Cores quota" in str(raised.value)
    assert "still busy" not in str(raised.value) and transport.sleeps == []


def test_a_day_long_retry_after_is_cut_to_the_budget_and_polling_shares_it():
    props = props_for("slownoart", timeout_minutes=2)
    transport = ReplayTransport(
        [
            constructed("PUT", pool_url("slownoart"), 409, BUSY, {"Retry-After": "86400"}),
            # Accepted at last, but the operation is still running when the budget ends.
            constructed(
                "PUT",
                pool_url("slownoart"),
                201,
                arm_pool(props, state="Creating"),
                {
                    "Azure-AsyncOperation": f"{ARM}/providers/Microsoft.ContainerService/locations/westus3/operations/op-x"
                },
            ),
            *[
                constructed(
                    "GET",
                    f"{ARM}/providers/Microsoft.ContainerService/locations/westus3/operations/op-x",
                    200,
                    {"status": "InProgress"},
                )
                for _ in range(3)
            ],
        ]
    )
    clock = FakeClock(on_sleep=transport.sleep)
    with pytest.raises(AzureOperationError) as raised:
        provider_for(transport, clock=clock, poll_seconds=10).create(props)
    # 86 400 s asked, 120 s left: the wait is cut to 120 s, and then nothing is left for polling.
    assert transport.sleeps[0] == 120.0 and clock.t <= 120.0 + 10
    assert "timeouts.poolMinutes" in str(raised.value)


def test_a_409_that_is_not_about_a_running_operation_is_not_retried():
    props = props_for("slownoart")
    transport = ReplayTransport(
        [
            constructed(
                "PUT",
                pool_url("slownoart"),
                409,
                {"error": {"code": "Conflict", "message": "The agent pool slownoart is being deleted."}},
            )
        ]
    )
    with pytest.raises(AzureOperationError) as raised:
        provider_for(transport).create(props)
    assert "Conflict: The agent pool slownoart is being deleted." in str(raised.value)
    assert transport.sleeps == []


def test_permanent_400_reaches_the_user_without_retries():
    props = props_for("fastart", vmSize="Standard_D4ds_v5")
    transport = ReplayTransport(
        [
            constructed(
                "PUT",
                pool_url("fastart"),
                400,
                {
                    "error": {
                        "code": "PropertyChangeNotAllowed",
                        "target": "properties.vmSize",
                        "message": "Changing property 'properties.vmSize' is not allowed.",
                    }
                },
            )
        ]
    )
    with pytest.raises(AzureOperationError) as raised:
        provider_for(transport).create(props)
    assert "PropertyChangeNotAllowed: Changing property 'properties.vmSize' is not allowed." in str(raised.value)
    assert "agent pool fastart of AKS cluster streamab-aks" in str(raised.value)
    assert len(transport.sent) == 1 and transport.sleeps == []


def test_failed_operation_reports_the_message_of_the_operation():
    props = props_for("fastart")
    transport = ReplayTransport(
        [
            constructed(
                "PUT",
                pool_url("fastart"),
                201,
                arm_pool(props, state="Creating"),
                {"azure-asyncoperation": operation_url("op-fail")},
            ),
            constructed(
                "GET",
                operation_url("op-fail"),
                200,
                {
                    "name": "op-fail",
                    "status": "Failed",
                    "error": {
                        "code": "ReconcileVMSSAgentPoolFailed",
                        "message": 'Code="OperationNotAllowed" Message="Operation could not be completed as it results '
                        'in exceeding approved standardDDSv5Family Cores quota."',
                    },
                },
            ),
        ]
    )
    with pytest.raises(AzureOperationError) as raised:
        provider_for(transport).create(props)
    assert "ReconcileVMSSAgentPoolFailed" in str(raised.value)
    assert "standardDDSv5Family Cores quota" in str(raised.value)


def test_a_wait_past_the_pool_limit_names_the_config_key():
    props = props_for("fastart", timeout_minutes=1)
    transport = ReplayTransport(
        [
            constructed(
                "PUT",
                pool_url("fastart"),
                201,
                arm_pool(props, state="Creating"),
                {"azure-asyncoperation": operation_url("op-slow")},
            ),
            *[
                constructed("GET", operation_url("op-slow"), 200, {"name": "op-slow", "status": "InProgress"})
                for _ in range(4)
            ],
        ]
    )
    clock = FakeClock(on_sleep=transport.sleep)
    with pytest.raises(WaitTimeoutError) as raised:
        provider_for(transport, poll_seconds=30, clock=clock).create(props)
    assert "acr-streaming-ab:timeouts.poolMinutes" in str(raised.value)
    assert "creating of agent pool fastart" in str(raised.value)


# Diff -------------------------------------------------------------------------------------------
def outputs_of(props: dict) -> dict:
    outs = {k: v for k, v in props.items() if k != "__provider"}
    outs.update(provisioningState="Succeeded", currentOrchestratorVersion="1.33.2", nodeImageVersion="x")
    return outs


@pytest.mark.parametrize(
    "change, replaced",
    [
        ({"count": 0}, []),
        ({"nodeLabels": {"streaming-ab/pool": "fastart", "streaming-ab/streaming": "true", "team": "a"}}, []),
        ({"nodeTaints": ["streaming-ab/pool=fastart:NoSchedule", "x=y:NoExecute"]}, []),
        ({"artifactStreamingProfile": {"enabled": False}}, []),
        ({"orchestratorVersion": "1.34"}, []),
        ({"vmSize": "Standard_D8ds_v5"}, ["properties.vmSize"]),
        ({"osDiskType": "Managed"}, ["properties.osDiskType"]),
        ({"osDiskSizeGB": 100}, ["properties.osDiskSizeGB"]),
        ({"osSKU": "AzureLinux"}, ["properties.osSKU"]),
        ({"workloadRuntime": "KataVmIsolation"}, ["properties.workloadRuntime"]),
    ],
)
def test_diff_updates_mutable_properties_and_replaces_immutable_ones(change, replaced):
    olds = outputs_of(json.loads(json.dumps(props_for("fastart")), parse_float=lambda s: int(float(s))))
    news = props_for("fastart", **change)
    result = ExperimentPoolProvider().diff("id", olds, news)
    assert result.changes is True
    assert result.replaces == replaced
    assert result.delete_before_replace is True


def test_diff_ignores_limits_and_computed_outputs_and_sees_cache_generation_and_identity():
    olds = outputs_of(props_for("fastart"))
    provider = ExperimentPoolProvider()
    assert provider.diff("id", olds, props_for("fastart", timeout_minutes=90)).changes is False
    reset = provider.diff("id", olds, props_for("fastart", cache_generation=1))
    assert reset.changes is True and reset.replaces == []
    moved = dict(props_for("fastart"), clusterName="other-aks")
    assert provider.diff("id", olds, moved).replaces == ["clusterName"]
    new_tenant = dict(props_for("fastart"), tenantId="11111111-2222-3333-4444-555555555555")
    tenant = provider.diff("id", olds, new_tenant)
    assert tenant.changes is True and tenant.replaces == []
    # Applying it touches no pool: not even a session is made.
    no_azure = ExperimentPoolProvider(lambda *_: pytest.fail("a tenant change must not call Azure"))
    kept = no_azure.update("id", olds, new_tenant).outs
    assert kept["tenantId"] == new_tenant["tenantId"] and kept["provisioningState"] == "Succeeded"
    unknown = dict(props_for("fastart"), clusterName="04da6b54-80e4-46f7-96ec-b56ff0331ba9")
    assert provider.diff("id", olds, unknown).replaces == ["clusterName"]


def test_without_a_pinned_version_an_update_never_upgrades():
    olds = props_for("fastart", version=None)
    news = props_for("fastart", version=None, count=2)
    current = arm_pool(olds, orchestratorVersion="1.34.1")
    transport = ReplayTransport(
        [constructed("GET", pool_url("fastart"), 200, current), *put_sequence(news, "op-scale", status=200)]
    )
    provider_for(transport).update("id", olds, news)
    (put,) = puts(transport)  # one PUT: the scale, no upgrade step
    assert "orchestratorVersion" not in put.body["properties"]


@pytest.mark.parametrize("value", ["NaN", "-5", "in a while"])
def test_a_busy_409_with_a_retry_after_that_is_not_seconds_waits_the_backoff(value):
    """Constructed: a busy 409 whose Retry-After is NaN, negative or garbage: the backoff (15 s) is slept."""
    props = props_for("slownoart")
    transport = ReplayTransport(
        [
            constructed("PUT", pool_url("slownoart"), 409, BUSY, {"Retry-After": value}),
            *put_sequence(props, "op-after-409"),
        ]
    )
    provider_for(transport).create(props)
    assert transport.sleeps[0] == 15.0 and transport.unused() == []
