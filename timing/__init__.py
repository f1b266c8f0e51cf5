"""Pod start-up timing for the ACR artifact-streaming A/B experiment.

``venv/bin/python -m timing report`` turns pods and kubelet events (live or from
``kubectl get ... -o json`` dumps) into per-arm statistics and per-trial
speed-ups; ``venv/bin/python -m timing measure`` runs repeated cold-start trials and
snapshots them for ``report``.  Every figure is defined in docs/timing.md.
"""

SCHEMA = "streaming-ab/timing-report@3"
