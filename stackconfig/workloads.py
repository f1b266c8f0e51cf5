"""A/B workloads and their arms; the rules that span the stack are in `workload_rules.py`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool, StrictInt, StrictStr, model_validator

from stackconfig import fields as f
from stackconfig.base import ConfigModel, Problems, raise_if


def object_names(template: str, arm: str) -> tuple[str, ...]:
    """Deployment/Service names an arm declares (components/manifests.py names them the same way)."""
    return (f"{arm}-front", f"{arm}-back") if template == "azure-vote" else (arm,)


class ArmConfig(ConfigModel):
    """One side of a comparison: a workload on one pool."""

    name: StrictStr = Field("", description="Global arm name; empty: `<workload>-<pool>`.")
    pool: StrictStr = Field(description="The experiment pool it runs on.")
    pair: f.LabelValue = Field("default", description="Arms of one pair are compared with each other.")
    # Resolved from the enclosing workload and the pool; never read from a stack file.
    workload: StrictStr = Field("", exclude=True, json_schema_extra={"derived": True})
    streaming: StrictBool = Field(False, exclude=True, json_schema_extra={"derived": True})


class ResourcesConfig(ConfigModel):
    cpu_request: f.CpuQuantity = Field("100m", alias="cpuRequest", description="Per container.")
    memory_request: f.MemoryQuantity = Field("128Mi", alias="memoryRequest", description="Per container.")
    cpu_limit: f.CpuQuantity = Field("250m", alias="cpuLimit", description="Per container.")
    memory_limit: f.MemoryQuantity = Field("256Mi", alias="memoryLimit", description="Per container.")

    @model_validator(mode="after")
    def _requests_within_limits(self) -> ResourcesConfig:
        found: Problems = []
        values = self.model_dump(by_alias=True)
        for request, limit, parse in (
            ("cpuRequest", "cpuLimit", f.cpu_millicores),
            ("memoryRequest", "memoryLimit", f.memory_bytes),
        ):
            if (parse(values[request]) or 0) > (parse(values[limit]) or 0):
                found.append(((request,), f"request exceeds {limit}; allowed: a request no larger than its limit"))
        raise_if(found)
        return self


class WorkloadConfig(ConfigModel):
    """An A/B workload: the same image on every arm, by the same reference."""

    name: f.WorkloadName = Field(description="Workload name.")
    template: Literal["azure-vote", "single"] = Field(
        description="`azure-vote` (front + redis, a Service per arm) or `single` (one container)."
    )
    image: StrictStr = Field(description="Name of an image or synthetic image.")
    backend_image: StrictStr | None = Field(
        None, alias="backendImage", description="azure-vote: the redis image's name."
    )
    replicas: f.Replicas = Field(1, description="Pods per arm, 1-1000.")
    port: f.Port | None = Field(None, description="Port served; azure-vote defaults to 80.")
    image_reference: Literal["tag", "digest"] = Field(
        "tag",
        alias="imageReference",
        description="How every arm references the image; artifact streaming works only for pulls by tag.",
    )
    startup_read_mb: StrictInt | None = Field(
        None,
        alias="startupReadMb",
        description="Synthetic filled images: MB to read before ready, for this workload only "
        "(default: the image's startupReadMb).",
    )
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig, description="Requests and limits.")
    arms: tuple[ArmConfig, ...] = Field(description="At least one streaming and one standard arm per pair.")

    @model_validator(mode="after")
    def _arms(self) -> WorkloadConfig:
        found: Problems = []
        if self.template == "azure-vote" and self.backend_image is None:
            found.append((("backendImage",), "the azure-vote template needs its redis back-end image"))
        elif self.template != "azure-vote" and self.backend_image is not None:
            found.append((("backendImage",), "only the azure-vote template has a back-end; remove the key"))
        if not self.arms:
            found.append(
                (("arms",), "a workload needs arms to compare; allowed: at least one streaming and one standard arm")
            )
        arms = []
        for j, arm in enumerate(self.arms):
            name = arm.name or f"{self.name}-{arm.pool}"
            if not f.OBJECT_NAME_RE.fullmatch(name) or len(name) > 40:
                found.append(
                    (
                        ("arms", j, "name"),
                        f"{name!r} is not an arm name; allowed: a lowercase letter, then "
                        "lowercase letters, digits and '-', at most 40",
                    )
                )
            arms.append(arm.model_copy(update={"name": name, "workload": self.name}))
        raise_if(found)
        port = self.port if self.port is not None else (80 if self.template == "azure-vote" else None)
        return self.model_copy(update={"arms": tuple(arms), "port": port})
