"""Every provider operation under every network/service fault ends cleanly (constructed HTTP).

Each operation's happy path is constructed in the shapes of the recordings the per-provider tests
replay (ARM long-running operations as test_acr_artifact_streaming.yaml#6-8, data-plane auth as #13-15).
Then, for every request n of that path and every fault of `tests.replay.FAULTS`, the path runs again
with every answer from request n on replaced by the fault. A case passes when the operation either
returns exactly what it returns without the fault, or raises one `AzureOperationError` that names
the resource, carries no credential in its message or printed traceback (Pulumi prints the chain),
and slept only finite, non-negative times adding up to less than the operation's budget.
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from offline.clock import FakeClock
from providers.acr_build import AcrBuildProvider
from providers.acr_import import ExistingImageProvider, ImportedImageProvider
from providers.acr_streaming import RepositoryStreamingProvider, StreamingArtifactProvider
from providers.acr_token_credentials import TokenCredentialsProvider
from providers.aks_agent_pool import ExperimentPoolProvider
from providers.errors import AzureOperationError
from tests.conftest import FakeCredential, provider_on
from tests.replay import FAULTS, FOREIGN_HOST, SUBSCRIPTION, TENANT, Fault, Interaction, ReplayTransport, constructed

# Credentials planted in the happy paths: none may ever reach a message.
AAD_TOKEN = "aad-SECRET-token-1f2e3d"
REFRESH_TOKEN = "acr-refresh-SECRET-4c5b6a"
ACCESS_TOKEN = "acr-access-SECRET-7d8e9f"
SAS_SIGNATURE = "SAS-SIGNATURE-SECRET-0a1b"
PASSWORD = "token-password-SECRET-2c3d"
SECRETS = (AAD_TOKEN, REFRESH_TOKEN, ACCESS_TOKEN, SAS_SIGNATURE, PASSWORD)

ARM = "https://management.azure.com"
RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/streamab-rg"
REGISTRY = f"{RG}/providers/Microsoft.ContainerRegistry/registries/streamabx7k2q9"
CLUSTER = f"{RG}/providers/Microsoft.ContainerService/managedClusters/streamab-aks"
LOGIN = "streamabx7k2q9.azurecr.io"
DIGEST = "sha256:" + "a" * 64
ARTIFACT = "sha256:" + "e" * 64
OPERATION = "7dfcc117-d980-4c19-8817-3171e14186ca"
STREAMING_TYPE = "application%2Fvnd.azure.artifact.streaming.v1"
SAS = f"https://streamabstore.blob.core.windows.net/c/source/ctx.tar.gz?sv=2019-02-02&sr=b&sp=cw&sig={SAS_SIGNATURE}"
TOKEN_ID = f"{REGISTRY}/tokens/aks-pull-streamab"
CREATED = "2026-08-02T10:00:00+00:00"

COMMON = {"subscriptionId": SUBSCRIPTION, "tenantId": TENANT, "__provider": "pickled"}
IMPORT = {
    **COMMON,
    "resourceGroupName": "streamab-rg",
    "registryName": "streamabx7k2q9",
    "loginServer": LOGIN,
    "source": "mcr.microsoft.com/mirror/docker/library/alpine:3.20",
    "target": "library/alpine:3.20",
    "timeoutMinutes": 30.0,
    "digest": DIGEST,
    "ref": f"{LOGIN}/library/alpine:3.20",
}
EXISTING = {**COMMON, "loginServer": LOGIN, "target": "library/alpine:3.20", "timeoutMinutes": 30.0}
ARTIFACT_PROPS = {
    **COMMON,
    "loginServer": LOGIN,
    "repository": "library/alpine",
    "digest": DIGEST,
    "timeoutMinutes": 60.0,
    "streamingArtifactDigest": ARTIFACT,
    "streamingArtifactSubject": DIGEST,
    "operationId": OPERATION,
    "status": "Succeeded",
    "reused": False,
}
AUTO = {
    **COMMON,
    "loginServer": LOGIN,
    "repository": "library/alpine",
    "convertPushedImages": True,
    "timeoutMinutes": 60.0,
}
BUILD = {
    **COMMON,
    "resourceGroupName": "streamab-rg",
    "registryName": "streamabx7k2q9",
    "loginServer": LOGIN,
    "target": "largeimage/test:v1",
    "dockerfile": "FROM scratch\n",
    "squashSource": None,
    "timeoutMinutes": 60.0,
    "digest": DIGEST,
}
TOKEN = {
    **COMMON,
    "resourceGroupName": "streamab-rg",
    "registryName": "streamabx7k2q9",
    "tokenId": TOKEN_ID,
    "passwordName": "password1",
    "timeoutMinutes": 45.0,
    "passwordCreationTime": CREATED,
}
POOL_PROPERTIES = {
    "count": 2.0,
    "vmSize": "Standard_D4ds_v5",
    "osType": "Linux",
    "osSKU": "AzureLinux",
    "mode": "User",
    "orchestratorVersion": "1.33",
    "artifactStreamingProfile": {"enabled": True},
}
POOL = {
    **COMMON,
    "resourceGroupName": "streamab-rg",
    "clusterName": "streamab-aks",
    "poolName": "fastart",
    "properties": POOL_PROPERTIES,
    "cacheGeneration": 0.0,
    "timeoutMinutes": 45.0,
}


# -- Happy paths ---------------------------------------------------------------------------------
def auth(*scopes: int) -> list[Interaction]:
    """Challenge, exchange, and one access token per scope the operation asks for."""
    return [
        constructed(
            "GET",
            f"https://{LOGIN}/v2/",
            401,
            {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
            {"www-authenticate": f'Bearer realm="https://{LOGIN}/oauth2/token",service="{LOGIN}"'},
        ),
        constructed("POST", f"https://{LOGIN}/oauth2/exchange", 200, {"refresh_token": REFRESH_TOKEN}),
        *[
            constructed("POST", f"https://{LOGIN}/oauth2/token", 200, {"access_token": ACCESS_TOKEN})
            for _ in range(len(scopes) or 1)
        ],
    ]


def arm_lro(method: str, url: str, final: Any, status: int = 202) -> list[Interaction]:
    """A request answered 202 + `location`, the location polled once to 200 with the final body."""
    location = f"{ARM}/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Example/locations/westus3/operationResults/op1"
    return [
        constructed(method, url, status, None, {"location": location}),
        constructed("GET", location, 200, final),
    ]


def tag(digest: str = DIGEST) -> Interaction:
    body = {"registry": LOGIN, "imageName": "library/alpine", "tag": {"name": "3.20", "digest": digest}}
    return constructed("GET", f"https://{LOGIN}/acr/v1/library/alpine/_tags/3.20", 200, body)


def import_path() -> list[Interaction]:
    url = f"{ARM}{REGISTRY}/importImage?api-version=2025-11-01"
    return [*arm_lro("POST", url, None), *auth(1), tag()]


def referrers(*digests: str) -> Interaction:
    manifests = [
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": d,
            "size": 1500,
            "artifactType": "application/vnd.azure.artifact.streaming.v1",
        }
        for d in digests
    ]
    body = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}
    url = f"https://{LOGIN}/v2/library/alpine/referrers/{DIGEST}?artifactType={STREAMING_TYPE}"
    return constructed("GET", url, 200, body, {"oci-filters-applied": "artifactType"})


def streaming(status: int, body: Any, method: str = "GET") -> Interaction:
    return constructed(method, f"https://{LOGIN}/acr/v1/library/alpine/_streaming/{DIGEST}", status, body)


def operation(status: str) -> Interaction:
    body = {"name": "ArtifactStreamingConversion", "status": status, "progress": "100%", "details": "done"}
    return constructed("GET", f"https://{LOGIN}/acr/v1/library/alpine/_operations/{OPERATION}", 200, body)


def conversion_path() -> list[Interaction]:
    unknown = {"errors": [{"code": "OPERATION_UNKNOWN", "message": "operation unknown"}]}
    return [
        *auth(1),
        referrers(),
        streaming(404, unknown),
        constructed("POST", f"https://{LOGIN}/oauth2/token", 200, {"access_token": ACCESS_TOKEN}),
        streaming(202, {"id": OPERATION, "status": "NotStarted"}, "POST"),
        operation("Succeeded"),
        referrers(ARTIFACT),
    ]


def artifact_delete_path(digest: str = DIGEST) -> list[Interaction]:
    """Delete looks for the conversion it started (to cancel it if still running); the referrer stays."""
    done = {"id": OPERATION, "status": "Succeeded"}
    return [*auth(1), constructed("GET", f"https://{LOGIN}/acr/v1/library/alpine/_streaming/{digest}", 200, done)]


OLD_DIGEST, OLD_ARTIFACT = "sha256:" + "0" * 64, "sha256:" + "1" * 64
OLD_ARTIFACT_PROPS = {**ARTIFACT_PROPS, "digest": OLD_DIGEST, "streamingArtifactDigest": OLD_ARTIFACT}


def access_token() -> Interaction:
    return constructed("POST", f"https://{LOGIN}/oauth2/token", 200, {"access_token": ACCESS_TOKEN})


def auto_switch(enabled: bool) -> Interaction:
    url = f"https://{LOGIN}/acr/v1/library/alpine/_streaming"
    return constructed("POST", url, 202, {"id": OPERATION, "status": "Running", "convertPushedImages": enabled})


def auto_path(enabled: bool) -> list[Interaction]:
    return [*auth(1), auto_switch(enabled), access_token(), operation("Succeeded")]


def auto_delete_path() -> list[Interaction]:
    url = f"https://{LOGIN}/acr/v1/library/alpine/_streaming"
    return [
        *auth(1),
        constructed("GET", url, 200, {"convertPushedImages": True}),
        access_token(),
        auto_switch(False),
        operation("Succeeded"),
    ]


def build_path() -> list[Interaction]:
    api = "?api-version=2019-06-01-preview"
    run = {"properties": {"runId": "cb1", "status": "Queued"}}
    done = {
        "properties": {
            "runId": "cb1",
            "status": "Succeeded",
            "outputImages": [{"registry": LOGIN, "repository": "largeimage/test", "tag": "v1", "digest": DIGEST}],
        }
    }
    return [
        constructed(
            "POST",
            f"{ARM}{REGISTRY}/listBuildSourceUploadUrl{api}",
            200,
            {"uploadUrl": SAS, "relativePath": "source/ctx.tar.gz"},
        ),
        constructed("PUT", SAS, 201, None),
        constructed("POST", f"{ARM}{REGISTRY}/scheduleRun{api}", 200, run),
        constructed("GET", f"{ARM}{REGISTRY}/runs/cb1{api}", 200, done),
    ]


def build_202_path() -> list[Interaction]:
    """scheduleRun answered 202 with a Location on ARM, polled to the queued run."""
    api = "?api-version=2019-06-01-preview"
    location = f"{ARM}/subscriptions/{SUBSCRIPTION}/providers/Microsoft.ContainerRegistry/locations/westus3/operationResults/run-cb1"
    upload, put, _, done = build_path()
    return [
        upload,
        put,
        constructed("POST", f"{ARM}{REGISTRY}/scheduleRun{api}", 202, None, {"Location": location}),
        constructed("GET", location, 200, {"properties": {"runId": "cb1", "status": "Queued"}}),
        done,
    ]


def build_failed_path() -> list[Interaction]:
    """A run that ends Failed: its log is read (SAS URL) for the error, which is the expected outcome."""
    api = "?api-version=2019-06-01-preview"
    log = f"https://streamabstore.blob.core.windows.net/c/logs/cb1.log?sv=2019-02-02&sr=b&sp=r&sig={SAS_SIGNATURE}"
    failed = {"properties": {"runId": "cb1", "status": "Failed", "runErrorMessage": "step 1 failed"}}
    return [
        *build_path()[:3],
        constructed("GET", f"{ARM}{REGISTRY}/runs/cb1{api}", 200, failed),
        constructed("POST", f"{ARM}{REGISTRY}/runs/cb1/listLogSasUrl{api}", 200, {"logLink": log}),
        constructed("GET", log, 200, "Step 1/2 : FROM scratch\nerror: no such file"),
    ]


def build_read_path() -> list[Interaction]:
    body = {"registry": LOGIN, "imageName": "largeimage/test", "tag": {"name": "v1", "digest": DIGEST}}
    return [*auth(1), constructed("GET", f"https://{LOGIN}/acr/v1/largeimage/test/_tags/v1", 200, body)]


def token_body(value: bool = False) -> dict[str, Any]:
    password = {"name": "password1", "creationTime": CREATED, **({"value": PASSWORD} if value else {})}
    return {
        "id": TOKEN_ID,
        "name": "aks-pull-streamab",
        "properties": {"credentials": {"passwords": [password, {"name": "password2", "creationTime": CREATED}]}},
    }


def token_create_path() -> list[Interaction]:
    generated = {
        "username": "aks-pull-streamab",
        "passwords": token_body(True)["properties"]["credentials"]["passwords"],
    }
    return arm_lro("POST", f"{ARM}{REGISTRY}/generateCredentials?api-version=2025-11-01", generated)


def token_get() -> Interaction:
    return constructed("GET", f"{ARM}{TOKEN_ID}?api-version=2025-11-01", 200, token_body())


def token_delete_path() -> list[Interaction]:
    return [token_get(), constructed("PATCH", f"{ARM}{TOKEN_ID}?api-version=2025-11-01", 200, token_body())]


def pool_body(count: int = 2, state: str = "Succeeded") -> dict[str, Any]:
    properties = {
        **POOL_PROPERTIES,
        "count": count,
        "provisioningState": state,
        "currentOrchestratorVersion": "1.33.2",
        "nodeImageVersion": "AzureLinux-202608.01.0",
    }
    return {"id": f"{CLUSTER}/agentPools/fastart", "name": "fastart", "properties": properties}


def pool_url() -> str:
    return f"{ARM}{CLUSTER}/agentPools/fastart?api-version=2026-08-01"


def pool_put(count: int) -> list[Interaction]:
    operation_url = (
        f"{ARM}/subscriptions/{SUBSCRIPTION}/providers/Microsoft.ContainerService/locations/westus3/operations/op1"
    )
    return [
        constructed("PUT", pool_url(), 200, pool_body(count, "Updating"), {"azure-asyncoperation": operation_url}),
        constructed("GET", operation_url, 200, {"name": "op1", "status": "Succeeded"}),
        constructed("GET", pool_url(), 200, pool_body(count)),
    ]


def pool_delete_path() -> list[Interaction]:
    operation_url = (
        f"{ARM}/subscriptions/{SUBSCRIPTION}/providers/Microsoft.ContainerService/locations/westus3/operations/op2"
    )
    return [
        constructed(
            "DELETE", pool_url(), 202, None, {"azure-asyncoperation": operation_url, "location": operation_url}
        ),
        constructed("GET", operation_url, 200, {"name": "op2", "status": "Succeeded"}),
    ]


# -- The operations --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Operation:
    name: str
    provider: type
    call: Callable[[Any], Any]  # the provider method, called on a fresh provider
    path: Callable[[], list[Interaction]]
    subject: str  # what every failure message must name
    budget_minutes: float
    fails: bool = False  # the operation ends in an error even without a fault (a failed build)


def _outs(result: Any) -> Any:
    return None if result is None else (getattr(result, "id", None), getattr(result, "outs", None))


def _scaled(props: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**props, "properties": {**props["properties"], **changes}}


OPERATIONS = (
    Operation(
        "import.create", ImportedImageProvider, lambda p: p.create(IMPORT), import_path, "library/alpine:3.20", 30
    ),
    Operation(
        "import.read",
        ImportedImageProvider,
        lambda p: p.read("id", IMPORT),
        lambda: [*auth(1), tag()],
        "library/alpine",
        30,
    ),
    Operation(
        "import.update",
        ImportedImageProvider,
        lambda p: p.update("id", IMPORT, {**IMPORT, "source": "docker.io/library/alpine:3.20"}),
        import_path,
        "library/alpine:3.20",
        30,
    ),
    Operation(
        "import.delete",
        ImportedImageProvider,
        lambda p: p.delete("id", IMPORT),
        lambda: [
            *auth(1),
            tag(),
            constructed("POST", f"https://{LOGIN}/oauth2/token", 200, {"access_token": ACCESS_TOKEN}),
            constructed("DELETE", f"https://{LOGIN}/acr/v1/library/alpine/_tags/3.20", 202, None),
        ],
        "library/alpine",
        30,
    ),
    Operation(
        "existing.create",
        ExistingImageProvider,
        lambda p: p.create(EXISTING),
        lambda: [*auth(1), tag()],
        "library/alpine:3.20",
        30,
    ),
    Operation(
        "existing.read",
        ExistingImageProvider,
        lambda p: p.read("id", EXISTING),
        lambda: [*auth(1), tag()],
        "library/alpine:3.20",
        30,
    ),
    Operation(
        "artifact.create",
        StreamingArtifactProvider,
        lambda p: p.create(ARTIFACT_PROPS),
        conversion_path,
        "library/alpine",
        60,
    ),
    Operation(
        "artifact.read",
        StreamingArtifactProvider,
        lambda p: p.read("id", ARTIFACT_PROPS),
        lambda: [*auth(1), referrers(ARTIFACT)],
        "library/alpine",
        60,
    ),
    Operation(
        "artifact.new-digest",
        StreamingArtifactProvider,
        lambda p: p.update("id", OLD_ARTIFACT_PROPS, ARTIFACT_PROPS),
        lambda: [*conversion_path(), *artifact_delete_path(OLD_DIGEST)],
        "library/alpine",
        60,
    ),
    Operation(
        "artifact.delete",
        StreamingArtifactProvider,
        lambda p: p.delete("id", ARTIFACT_PROPS),
        artifact_delete_path,
        "library/alpine",
        60,
    ),
    Operation(
        "autoconvert.create",
        RepositoryStreamingProvider,
        lambda p: p.create(AUTO),
        lambda: auto_path(True),
        "library/alpine",
        60,
    ),
    Operation(
        "autoconvert.read",
        RepositoryStreamingProvider,
        lambda p: p.read("id", AUTO),
        lambda: [
            *auth(1),
            constructed("GET", f"https://{LOGIN}/acr/v1/library/alpine/_streaming", 200, {"convertPushedImages": True}),
        ],
        "library/alpine",
        60,
    ),
    Operation(
        "autoconvert.update",
        RepositoryStreamingProvider,
        lambda p: p.update("id", {**AUTO, "convertPushedImages": False}, AUTO),
        lambda: auto_path(True),
        "library/alpine",
        60,
    ),
    Operation(
        "autoconvert.delete",
        RepositoryStreamingProvider,
        lambda p: p.delete("id", AUTO),
        auto_delete_path,
        "library/alpine",
        60,
    ),
    Operation("build.create", AcrBuildProvider, lambda p: p.create(BUILD), build_path, "largeimage/test", 60),
    Operation("build.create-202", AcrBuildProvider, lambda p: p.create(BUILD), build_202_path, "largeimage/test", 60),
    Operation(
        "build.create-failed-run",
        AcrBuildProvider,
        lambda p: p.create(BUILD),
        build_failed_path,
        "largeimage/test",
        60,
        fails=True,
    ),
    Operation("build.read", AcrBuildProvider, lambda p: p.read("id", BUILD), build_read_path, "largeimage/test", 60),
    Operation(
        "token.create", TokenCredentialsProvider, lambda p: p.create(TOKEN), token_create_path, "aks-pull-streamab", 45
    ),
    Operation(
        "token.read",
        TokenCredentialsProvider,
        lambda p: p.read("id", TOKEN),
        lambda: [token_get()],
        "aks-pull-streamab",
        45,
    ),
    Operation(
        "token.delete",
        TokenCredentialsProvider,
        lambda p: p.delete("id", TOKEN),
        token_delete_path,
        "aks-pull-streamab",
        45,
    ),
    Operation("pool.create", ExperimentPoolProvider, lambda p: p.create(POOL), lambda: pool_put(2), "fastart", 45),
    Operation(
        "pool.read",
        ExperimentPoolProvider,
        lambda p: p.read("id", POOL),
        lambda: [constructed("GET", pool_url(), 200, pool_body())],
        "fastart",
        45,
    ),
    Operation(
        "pool.scale",
        ExperimentPoolProvider,
        lambda p: p.update("id", POOL, _scaled(POOL, count=3.0)),
        lambda: [constructed("GET", pool_url(), 200, pool_body()), *pool_put(3)],
        "fastart",
        45,
    ),
    Operation(
        "pool.cache-reset",
        ExperimentPoolProvider,
        lambda p: p.update("id", POOL, {**POOL, "cacheGeneration": 1.0}),
        lambda: [constructed("GET", pool_url(), 200, pool_body()), *pool_put(0), *pool_put(2)],
        "fastart",
        45,
    ),
    Operation(
        "pool.streaming-flip",
        ExperimentPoolProvider,
        lambda p: p.update("id", _scaled(POOL, artifactStreamingProfile={"enabled": False}), POOL),
        lambda: [constructed("GET", pool_url(), 200, pool_body()), *pool_put(0), *pool_put(0), *pool_put(2)],
        "fastart",
        45,
    ),
    Operation("pool.delete", ExperimentPoolProvider, lambda p: p.delete("id", POOL), pool_delete_path, "fastart", 45),
)


def run(
    operation: Operation, fault: Fault | None = None, fault_from: int = 0
) -> tuple[Any, ReplayTransport, FakeClock]:
    clock = FakeClock()
    transport = ReplayTransport(operation.path(), fault, fault_from)
    provider, _ = provider_on(
        operation.provider, transport, clock=clock, poll_seconds=10, credential=FakeCredential(AAD_TOKEN)
    )
    try:
        return _outs(operation.call(provider)), transport, clock
    except BaseException as error:  # noqa: BLE001 -- classified by the caller
        return error, transport, clock


def problem(operation: Operation, happy: Any, outcome: Any, transport: ReplayTransport, clock: FakeClock) -> str | None:
    """Why a faulted run did not end cleanly, or None."""
    handed = [r.url for r in transport.sent if FOREIGN_HOST in r.url and "Authorization" in r.headers]
    if handed:
        return f"sent a token to another host: {handed[:2]}"
    sleeps = [*transport.sleeps, *clock.sleeps]
    if not all(math.isfinite(seconds) and seconds >= 0 for seconds in sleeps):
        return f"slept {sleeps}: time.sleep refuses negative and NaN times"
    slept = sum(sleeps)
    if slept > operation.budget_minutes * 60:
        return f"slept {slept:g} s, past the {operation.budget_minutes:g} min budget"
    if not isinstance(outcome, BaseException):
        return None if outcome == happy and not operation.fails else f"completed with another result: {outcome!r}"
    if not isinstance(outcome, AzureOperationError):
        return f"raw {type(outcome).__name__}: {outcome}"
    printed = "".join(traceback.format_exception(outcome))
    leaked = [s for s in SECRETS if s in printed]
    if leaked:
        return f"leaks {leaked} in: {printed[-600:]}"
    if outcome.__cause__ is not None or not outcome.__suppress_context__:
        return f"chains another exception: {printed[-600:]}"
    if operation.subject not in str(outcome):
        return f"does not name {operation.subject}: {outcome}"
    return None


def test_every_happy_path_uses_its_whole_sequence():
    for operation in OPERATIONS:
        outcome, transport, clock = run(operation)
        if operation.fails:
            assert problem(operation, None, outcome, transport, clock) is None, (operation.name, outcome)
        else:
            assert not isinstance(outcome, BaseException), (operation.name, outcome)
        assert transport.unused() == [], (operation.name, [i.uri for i in transport.unused()])


def test_every_operation_under_every_fault_ends_cleanly(capsys):
    cases, completed, failures = 0, 0, []
    for operation in OPERATIONS:
        happy, transport, _ = run(operation)
        for fault in FAULTS:
            for step in range(len(transport.sent)):
                outcome, faulted, clock = run(operation, fault, step)
                cases += 1
                completed += not isinstance(outcome, BaseException)
                reason = problem(operation, happy, outcome, faulted, clock)
                if reason:
                    failures.append(f"{operation.name} / {fault.name} from request {step}: {reason}")
    with capsys.disabled():
        print(
            f"\nfault matrix: {len(OPERATIONS)} operations x {len(FAULTS)} faults at every request = {cases} cases: "
            f"{cases - completed} ended in an error, {completed} completed; {cases - len(failures)} clean, "
            f"{len(failures)} not"
        )
    assert cases >= len(OPERATIONS) * len(FAULTS)
    assert failures == [], "\n".join(failures[:40]) + f"\n... {len(failures)} in all"
