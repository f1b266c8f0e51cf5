"""Pod start-up timing for the ACR artifact-streaming A/B experiment.

``python -m timing report`` turns pods and kubelet events (live or from
``kubectl get ... -o json`` dumps) into per-arm statistics; ``python -m timing
measure`` runs repeated cold-start trials and snapshots them for ``report``.
"""

SCHEMA = "streaming-ab/timing-report@1"

# Labels are the contract with the Pulumi program that creates the arms.
LABEL_ARM = "streaming-ab/arm"
LABEL_STREAMING = "streaming-ab/streaming"
LABEL_WORKLOAD = "streaming-ab/workload"
LABEL_PAIR = "streaming-ab/pair"
LABEL_POOL = "streaming-ab/pool"
LABEL_PART_OF = "app.kubernetes.io/part-of"
PART_OF_VALUE = "acr-streaming-ab"

DEFAULT_NAMESPACE = "streaming-ab"
