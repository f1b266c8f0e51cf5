"""ARM read-back of the experiment pools' artifact-streaming flag (a live report and ``measure``).

The pools' flag as Azure holds it now, not as the stack last wrote it: a pool changed by hand
or a failed update shows here.  Uses the official SDK; any failure reads as "unknown" (null),
never as "on".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def parse_cluster_id(cluster_id: str) -> tuple[str, str, str]:
    """``/subscriptions/S/resourceGroups/G/providers/Microsoft.ContainerService/managedClusters/N`` -> (S, G, N)."""
    parts = cluster_id.strip("/").split("/")
    lower = [p.lower() for p in parts]
    try:
        sub = parts[lower.index("subscriptions") + 1]
        group = parts[lower.index("resourcegroups") + 1]
        name = parts[lower.index("managedclusters") + 1]
    except (ValueError, IndexError):
        raise ValueError(f"not an AKS cluster resource id: {cluster_id!r}") from None
    return sub, group, name


def read_pool_streaming(
    cluster_id: str, pools: Iterable[str], credential: Any = None, **client_kwargs: Any
) -> dict[str, bool | None]:
    """``{pool: artifactStreamingProfile.enabled}`` as ARM returns it; None where it could not be read."""
    from azure.core.exceptions import AzureError
    from azure.mgmt.containerservice import ContainerServiceClient

    sub, group, name = parse_cluster_id(cluster_id)
    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    client = ContainerServiceClient(credential, sub, **client_kwargs)
    out: dict[str, bool | None] = {}
    for pool in pools:
        try:
            body: dict = client.agent_pools.get(group, name, pool, cls=_body)  # type: ignore[assignment]
        except (AzureError, ValueError):
            out[pool] = None
            continue
        props = body.get("properties") or {} if isinstance(body, dict) else {}
        profile = props.get("artifactStreamingProfile")
        out[pool] = bool(profile.get("enabled")) if isinstance(profile, dict) else False
    return out


def _body(pipeline_response, _deserialized, _headers) -> dict:
    # The answer as ARM sent it (camelCase): the flag is read from the wire, not a model default.
    return pipeline_response.http_response.json()


def streaming_artifacts_from_outputs(images_output: dict | None) -> dict[str, bool]:
    """``{image ref: has a streaming artifact}`` from the stack's ``images`` output (as of the last up/refresh)."""
    out: dict[str, bool] = {}
    for entry in (images_output or {}).values():
        if isinstance(entry, dict) and entry.get("ref"):
            out[entry["ref"]] = bool(entry.get("streamingArtifactDigest"))
    return out
