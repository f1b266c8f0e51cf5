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
LABEL_APP_NAME = "app.kubernetes.io/name"
LABEL_PART_OF = "app.kubernetes.io/part-of"
PART_OF_VALUE = PROJECT
# Every label the project writes starts with this; user labels may not.
RESERVED_LABEL_PREFIX = "streaming-ab/"

DEFAULT_NAMESPACE = "streaming-ab"

# Set by the AKS resource provider on nodes whose pool has artifact streaming on (the label
# Azure/karpenter-provider-azure mirrors as AKSArtifactStreamingEnabledLabelKey, "matches AKS RP label").
NODE_STREAMING_LABEL = "kubernetes.azure.com/artifactstreaming-enabled"

# What the project's synthetic images print when they start and when their start-up read is done
# (`<marker> start <RFC 3339 ms>` / `<marker> ready <...>`); `timing` reads it as app readiness.
APP_LOG_MARKER = "streaming-ab:"

# The inline system pool: only critical add-ons tolerate this taint, so no A/B pod lands there.
SYSTEM_POOL_NAME = "system"
SYSTEM_POOL_TAINT = "CriticalAddonsOnly=true:NoSchedule"

# AcrPull, a built-in role with the same id in every tenant.
ACR_PULL_ROLE_ID = "7f951dda-4ed3-4680-a7ca-43fe172d538d"

# Node OS images artifact streaming supports (Ubuntu2404 and AzureLinux3 were still rolling out,
# Azure/AKS#4948 and AgentBaker#6993, when this was written).
STREAMING_OS_SKUS = ("Ubuntu", "Ubuntu2204", "AzureLinux")
OS_GUARD_SKUS = ("AzureLinuxOSGuard", "AzureLinux3OSGuard")
SANDBOX_RUNTIMES = ("KataMshvVmIsolation", "KataVmIsolation")


def pool_taint(pool: str) -> str:
    """The taint that keeps everything but the pool's own arms off an experiment pool."""
    return f"{LABEL_POOL}={pool}:NoSchedule"
