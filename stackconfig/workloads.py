"""A/B workloads and their arms; the rules that span the stack are in `workload_rules.py`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool, StrictInt, StrictStr, model_validator

from contract import (
    LABEL_FACTOR,
    LABEL_FACTOR_VALUE,
    LABEL_FILL,
    LABEL_OS_DISK,
    LABEL_PAYLOAD_MB,
    LABEL_READ_MB,
    LABEL_VM_SIZE,
)
from stackconfig import fields as f
from stackconfig.base import ConfigModel, Problems, raise_if


def object_names(template: str, arm: str) -> tuple[str, ...]:
    """Deployment/Service names an arm declares (components/manifests.py names them the same way)."""
    return (f"{arm}-front", f"{arm}-back") if template == "azure-vote" else (arm,)  # single and custom: one


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


class EgressRuleConfig(ConfigModel):
    """One destination outside the cluster a custom container may connect to."""

    cidr: f.Cidr = Field(description="Addresses it may reach, e.g. `203.0.113.0/24` (outside the cluster).")
    ports: tuple[f.Port, ...] = Field((), description="Destination ports; empty: every port.")
    protocol: Literal["TCP", "UDP"] = Field("TCP", description="Protocol of `ports`.")


class ContainerNetworkConfig(ConfigModel):
    """What a custom container may connect to; the workload namespace denies everything else."""

    mode: Literal["none", "dns", "egress"] = Field(
        "dns",
        description="`none`: no connection at all; `dns` (default): cluster DNS only, so names resolve but "
        "nothing is reached and the start-up measured is the pull's, not the network's; `egress`: DNS and "
        "the `egress` destinations.",
    )
    egress: tuple[EgressRuleConfig, ...] = Field((), description="mode egress: `[{cidr, ports, protocol}]`.")

    @model_validator(mode="after")
    def _egress_with_its_mode(self) -> ContainerNetworkConfig:
        if self.mode == "egress" and not self.egress:
            raise_if([(("egress",), "mode egress without destinations reaches nothing; allowed: [{cidr, ports}]")])
        if self.mode != "egress" and self.egress:
            raise_if(
                [(("egress",), f"mode {self.mode} takes no destinations; allowed: mode: egress, or leave out egress")]
            )
        return self


class ContainerConfig(ConfigModel):
    """The container of a `custom` workload: your image, started and probed the way you say."""

    port: f.Port | None = Field(None, description="Port the container serves (TCP); a ClusterIP Service per arm.")
    readiness_path: f.ProbePath | None = Field(
        None, alias="readinessPath", description="Ready when `GET <path>` on `port` answers 2xx/3xx (probed every 1 s)."
    )
    readiness_command: tuple[StrictStr, ...] | None = Field(
        None, alias="readinessCommand", description="Ready when this command exits 0 in the container (every 1 s)."
    )
    command: tuple[StrictStr, ...] | None = Field(None, description="Replaces the image's ENTRYPOINT.")
    args: tuple[StrictStr, ...] | None = Field(None, description="Replaces the image's CMD.")
    env: dict[f.EnvName, StrictStr] = Field(default_factory=dict, description="Environment variables, name: value.")
    resources: ResourcesConfig | None = Field(
        None, description="Requests and limits (instead of the workload's `resources`)."
    )
    app_ready_log: f.LogPattern | None = Field(
        None,
        alias="appReadyLog",
        description="A regular expression: the first log line matching it is the app-ready time in the "
        "timing report (`app_ready_seconds`), as the synthetic images' own ready line is.",
    )
    network: ContainerNetworkConfig = Field(
        default_factory=ContainerNetworkConfig,
        description="Connections it may open: `mode` none, dns (default) or egress with `egress` "
        "destinations. Its `port` takes connections from the workload namespace's pods.",
    )
    confinement: Literal["own", "non-root", "runtime-default"] = Field(
        "own",
        description="`own`: as the project's images (user 65532, every capability dropped); `non-root`: the "
        "image's own non-root USER, every capability dropped; `runtime-default`: the image's user and the "
        "runtime's default capabilities. Privilege escalation is off and seccomp on in all three.",
    )

    @model_validator(mode="after")
    def _readiness(self) -> ContainerConfig:
        found: Problems = []
        if self.readiness_path is not None and self.readiness_command is not None:
            found.append((("readinessCommand",), "one readiness probe per container; allowed: readinessPath or this"))
        if self.readiness_path is not None and self.port is None:
            found.append((("readinessPath",), "an HTTP probe needs the port it asks; allowed: with container.port"))
        for key, value in (("readinessCommand", self.readiness_command), ("command", self.command)):
            if value is not None and (not value or not value[0]):
                found.append(((key,), "an empty command runs nothing; allowed: [program, arg, ...]"))
        if self.port is None and self.readiness_command is None and self.app_ready_log is None:
            found.append(
                (
                    (),
                    "nothing says when the app is ready (a pod without a probe is Ready when it starts); "
                    "allowed: port (+ readinessPath), readinessCommand or appReadyLog",
                )
            )
        raise_if(found)
        return self


class FactorConfig(ConfigModel):
    """The factor a workload's comparison stands for, written on its pods as labels."""

    name: f.LabelValue = Field(description="The factor, e.g. `readPercent`.")
    value: f.LabelValue = Field(description="Its value on this workload, e.g. `25`.")
    # Filled in by a sweep (the physical-limit line's inputs); never read from a stack file.
    payload_mb: int | None = Field(None, exclude=True, json_schema_extra={"derived": True})
    read_mb: int | None = Field(None, exclude=True, json_schema_extra={"derived": True})
    fill: str | None = Field(None, exclude=True, json_schema_extra={"derived": True})
    vm_size: str | None = Field(None, exclude=True, json_schema_extra={"derived": True})
    os_disk_type: str | None = Field(None, exclude=True, json_schema_extra={"derived": True})

    def pod_labels(self) -> dict[str, str]:
        known = (
            (LABEL_FACTOR, self.name),
            (LABEL_FACTOR_VALUE, self.value),
            (LABEL_PAYLOAD_MB, self.payload_mb),
            (LABEL_READ_MB, self.read_mb),
            (LABEL_FILL, self.fill),
            (LABEL_VM_SIZE, self.vm_size),
            (LABEL_OS_DISK, self.os_disk_type),
        )
        return {key: str(value) for key, value in known if value is not None}


class WorkloadConfig(ConfigModel):
    """An A/B workload: the same image on every arm, by the same reference."""

    name: f.WorkloadName = Field(description="Workload name.")
    template: Literal["azure-vote", "single", "custom"] = Field(
        description="`azure-vote` (front + redis, a Service per arm), `single` (one container) or `custom` "
        "(one container as `container` describes it)."
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
    container: ContainerConfig | None = Field(
        None,
        description="custom: port, readiness, command, args, env, resources, appReadyLog, network, confinement.",
    )
    factor: FactorConfig | None = Field(
        None, description="The factor this workload's comparison stands for (set by `sweep`; or by hand)."
    )
    arms: tuple[ArmConfig, ...] = Field(description="At least one streaming and one standard arm per pair.")

    @model_validator(mode="after")
    def _arms(self) -> WorkloadConfig:
        found: Problems = []
        if self.template == "azure-vote" and self.backend_image is None:
            found.append((("backendImage",), "the azure-vote template needs its redis back-end image"))
        elif self.template != "azure-vote" and self.backend_image is not None:
            found.append((("backendImage",), "only the azure-vote template has a back-end; remove the key"))
        found.extend(self._custom_problems())
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
        update: dict = {"arms": tuple(arms), "port": port}
        if self.container is not None:
            update["port"] = self.container.port
            if self.container.resources is not None:
                update["resources"] = self.container.resources
        return self.model_copy(update=update)

    def _custom_problems(self) -> Problems:
        """`container` belongs to the custom template, and says there what the workload keys say elsewhere."""
        if self.template != "custom":
            if self.container is not None:
                return [(("container",), "only the custom template takes a container; allowed: template: custom")]
            return []
        found: Problems = []
        if self.container is None:
            found.append((("container",), "the custom template needs its container; allowed: {port, readinessPath, …}"))
        for key, field in (("port", "port"), ("startupReadMb", "startup_read_mb")):
            if field in self.model_fields_set:
                found.append(((key,), f"a custom workload says this in its container; allowed: leave out {key}"))
        if "resources" in self.model_fields_set and self.container is not None and self.container.resources:
            found.append((("resources",), "given twice; allowed: resources or container.resources"))
        return found
