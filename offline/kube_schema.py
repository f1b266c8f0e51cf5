"""Which Kubernetes OpenAPI schema kubernetes-validate checks a cluster's objects against."""

from __future__ import annotations

from kubernetes_validate import utils as kv_utils


def schema_version(kubernetes_version: str | None) -> str:
    """The shipped schema to validate a cluster of `kubernetes_version` (1.MINOR[.PATCH]) against.

    No version configured: AKS picks its default, which is recent, so the newest schema shipped. A version
    older than the oldest shipped schema is refused rather than validated against a newer API.
    """
    shipped = sorted((tuple(int(p) for p in v.split(".")[:2]), v) for v in kv_utils.all_versions())
    if kubernetes_version is None:
        return shipped[-1][1]
    wanted = tuple(int(p) for p in kubernetes_version.split(".")[:2])
    usable = [v for minor, v in shipped if minor <= wanted]
    if not usable:
        raise LookupError(
            f"kubernetes-validate ships no schema as old as {kubernetes_version} (oldest: {shipped[0][1]})"
        )
    return usable[-1]
