"""Fakes for the workload side: Kubernetes objects and the ACR build.

Kubernetes fills in a LoadBalancer Service's `status.loadBalancer.ingress` once Azure has allotted a
public IP; the fake answers with a documentation address (RFC 5737) derived from the name, so each
arm gets its own. A Service whose name contains `pending` is answered without an address, the state
of an LB still being provisioned. AcrBuild's fake returns what a Succeeded run reports.
"""

from __future__ import annotations

import hashlib

from offline.fakes import resource_fake

ACR_BUILD_TYPE = "pulumi-python:dynamic/acr:AcrBuild"
BUILD_RUN_ID = "cb1"


def fake_ip(name: str) -> str:
    return f"203.0.113.{int(hashlib.sha256(name.encode()).hexdigest(), 16) % 250 + 1}"


def fake_digest(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


@resource_fake("kubernetes:core/v1:Service")
def service(name, inputs):
    spec = inputs.get("spec") or {}
    metadata = inputs.get("metadata") or {}
    if spec.get("type") != "LoadBalancer" or "pending" in str(metadata.get("name", "")):
        return {"status": {"loadBalancer": {}}}
    return {
        "status": {"loadBalancer": {"ingress": [{"ip": fake_ip(str(metadata.get("name", name))), "ipMode": "VIP"}]}}
    }


@resource_fake(ACR_BUILD_TYPE)
def acr_build(name, inputs):
    target = inputs.get("target", name)
    return {
        # The digest follows the Dockerfile, as a real build's does: a changed Dockerfile, a new digest.
        "digest": fake_digest(f"{target}\n{inputs.get('dockerfile', '')}"),
        "runId": BUILD_RUN_ID,
        "ref": f"{inputs.get('loginServer')}/{target}",
        "builtDockerfile": inputs.get("dockerfile"),
    }
