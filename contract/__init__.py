"""Names the Pulumi program, the `timing` CLI and the policy pack agree on.

The program writes these labels and taints; `timing` reads them from pods and nodes; the policy pack
checks them (it keeps tested copies, because it is published on its own). Change a value here and
every reader follows; change its meaning and the timing report's schema version changes with it.
"""

from __future__ import annotations

PROJECT = "acr-streaming-ab"

# Pod and node labels of the experiment (docs/timing.md defines what each one means to a report).
LABEL_ARM = "streaming-ab/arm"
LABEL_STREAMING = "streaming-ab/streaming"
LABEL_WORKLOAD = "streaming-ab/workload"
LABEL_PAIR = "streaming-ab/pair"
LABEL_POOL = "streaming-ab/pool"
# Set by `timing measure` on the pods of one trial (the unit of evidence); pods without it form one trial.
LABEL_TRIAL = "streaming-ab/trial"
# A swept factor (stackconfig `sweep`, or a workload's own `factor`): which one and its value on this
# workload, so the report can draw the speed-up against it (docs/timing.md "Crossover").
LABEL_FACTOR = "streaming-ab/factor"
LABEL_FACTOR_VALUE = "streaming-ab/factor-value"
# What the physical-limit line needs of a swept synthetic image and its pool, when the stack knows it.
LABEL_PAYLOAD_MB = "streaming-ab/payload-mb"
LABEL_READ_MB = "streaming-ab/read-mb"
LABEL_FILL = "streaming-ab/fill"
LABEL_VM_SIZE = "streaming-ab/vm-size"
LABEL_OS_DISK = "streaming-ab/os-disk"
LABEL_APP_NAME = "app.kubernetes.io/name"
LABEL_PART_OF = "app.kubernetes.io/part-of"
PART_OF_VALUE = PROJECT
# Every label the project writes starts with this; user labels may not.
RESERVED_LABEL_PREFIX = "streaming-ab/"

DEFAULT_NAMESPACE = "streaming-ab"
# What Kubernetes takes as a namespace name (an RFC 1123 label), checked by the stack config and the timing CLI.
NAMESPACE_NAME_PATTERN = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"

# Set by the AKS resource provider on nodes whose pool has artifact streaming on (the label
# Azure/karpenter-provider-azure mirrors as AKSArtifactStreamingEnabledLabelKey, "matches AKS RP label").
NODE_STREAMING_LABEL = "kubernetes.azure.com/artifactstreaming-enabled"

# What the project's synthetic images print when they start and when their start-up read is done
# (`<marker> start <RFC 3339 ms>` / `<marker> ready <...>`); `timing` reads it as app readiness.
APP_LOG_MARKER = "streaming-ab:"

# On the pods of a custom workload with `container.appReadyLog`: the regular expression whose first
# matching log line `timing` takes as the app-ready time (instead of APP_LOG_MARKER's `ready` line).
ANNOTATION_APP_READY_LOG = "streaming-ab/app-ready-log"

# The inline system pool: only critical add-ons tolerate this taint, so no A/B pod lands there.
SYSTEM_POOL_NAME = "system"
SYSTEM_POOL_TAINT = "CriticalAddonsOnly=true:NoSchedule"

# The pull-check Jobs (one per experiment pool, labelled with its pool): the stack's first rollout
# waits for them, and `timing measure` refuses to start until each measured pool's Job has completed.
LABEL_CHECK = "streaming-ab/check"
PULL_CHECK = "pull"

# AcrPull, a built-in role with the same id in every tenant.
ACR_PULL_ROLE_ID = "7f951dda-4ed3-4680-a7ca-43fe172d538d"

# Node OS images artifact streaming supports. Ubuntu 24.04 has it (Azure/AKS#4948 closed; the
# `Ubuntu` SKU itself is 24.04 from Kubernetes 1.35); Azure Linux 3 does not yet (AgentBaker#6993
# open, karpenter-provider-azure#1600 keeps streaming off there).
STREAMING_OS_SKUS = ("Ubuntu", "Ubuntu2204", "Ubuntu2404", "AzureLinux")
OS_GUARD_SKUS = ("AzureLinuxOSGuard", "AzureLinux3OSGuard")
SANDBOX_RUNTIMES = ("KataMshvVmIsolation", "KataVmIsolation")


def pool_taint(pool: str) -> str:
    """The taint that keeps everything but the pool's own arms off an experiment pool."""
    return f"{LABEL_POOL}={pool}:NoSchedule"
