"""The pull-check Job builder: valid against the Kubernetes schema, confined, bounded, never on a parked pool."""

from __future__ import annotations

import kubernetes_validate
import pytest

from components.pull_check import pull_check_job
from offline.kube_schema import schema_version
from stacks.config import parse_stack_config

IMAGE = "streamabx7k2q9.azurecr.io/library/hello-world@sha256:" + "a" * 64


def teleport_pools():
    return {p.name: p for p in parse_stack_config({"location": "westus3", "scenario": "teleport-ab"}).pools}


@pytest.mark.parametrize("use_pull_secret", [False, True])
def test_the_job_validates_and_is_confined_and_bounded(use_pull_secret):
    pool = teleport_pools()["teleporter"]
    job = pull_check_job(
        pool, namespace_name="streaming-ab", image=IMAGE, deadline_seconds=600, use_pull_secret=use_pull_secret
    )
    kubernetes_validate.validate(job, schema_version(None), strict=True)
    assert job["metadata"]["name"] == "pull-check-teleporter"
    assert job["spec"]["activeDeadlineSeconds"] == 600 and job["spec"]["backoffLimit"] == 2
    pod = job["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False and pod["securityContext"]["seccompProfile"]
    assert ("imagePullSecrets" in pod) == use_pull_secret
    (container,) = pod["containers"]
    assert container["image"] == IMAGE and container["securityContext"]["readOnlyRootFilesystem"] is True


def test_a_parked_pool_has_no_node_to_check_on():
    pool = teleport_pools()["shuttle"].model_copy(update={"count": 0})
    with pytest.raises(ValueError, match="pool 'shuttle' is parked"):
        pull_check_job(pool, namespace_name="streaming-ab", image=IMAGE, deadline_seconds=600)
