"""ARM read-back of the pools' streaming flag, on constructed ARM answers (no recording has them)."""

from tests.conftest import FakeCredential
from tests.replay import ReplayTransport, constructed
from timing.sources.azure import parse_cluster_id, read_pool_streaming, streaming_artifacts_from_outputs

CLUSTER = "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/aks1"
POOLS = "https://management.azure.com/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/aks1/agentPools"


def _pool(name, profile):
    props = {"vmSize": "Standard_D4ds_v5", "count": 1}
    if profile is not None:
        props["artifactStreamingProfile"] = profile
    return {"id": f"{CLUSTER}/agentPools/{name}", "name": name, "properties": props}


def test_flags_as_arm_answers_them():
    transport = ReplayTransport(
        [
            constructed("GET", f"{POOLS}/art", 200, _pool("art", {"enabled": True})),
            constructed("GET", f"{POOLS}/std", 200, _pool("std", None)),
            constructed("GET", f"{POOLS}/gone", 404, {"error": {"code": "NotFound", "message": "no such pool"}}),
        ]
    )
    flags = read_pool_streaming(CLUSTER, ["art", "std", "gone"], credential=FakeCredential(), transport=transport)
    # Absent profile: streaming off; a pool that cannot be read: unknown, never "on".
    assert flags == {"art": True, "std": False, "gone": None}


def test_cluster_id_and_artifacts_from_outputs():
    assert parse_cluster_id(CLUSTER) == ("s1", "rg1", "aks1")
    try:
        parse_cluster_id("/subscriptions/s1")
    except ValueError as exc:
        assert "not an AKS cluster resource id" in str(exc)
    else:
        raise AssertionError("accepted a partial id")
    images = {"big": {"ref": "r.azurecr.io/big:v1", "streamingArtifactDigest": "sha256:ab"}, "x": {"ref": "r/x:1"}}
    assert streaming_artifacts_from_outputs(images) == {"r.azurecr.io/big:v1": True, "r/x:1": False}
