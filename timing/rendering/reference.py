"""Figures published in the seed documents, to print beside measured ones.

Sources are the seed files under ``shared/seeds``: 000/001 (Project
Teleport walkthroughs, kubelet "Successfully pulled" times) and 004 (the
artifact-streaming blog post, time to Running read from ``kubectl get pods -w``).
Teleport was the predecessor of artifact streaming; its numbers are kept as
the historical baseline the seeds quote, not as a claim about streaming.
"""

from __future__ import annotations

from typing import Any

MB = 1000 * 1000

REFERENCE: list[dict[str, Any]] = [
    {
        "source": "000/001 Project Teleport walkthrough",
        "scenario": "azure-vote-front:v1",
        "image_size_bytes": 944 * MB,
        # The walkthrough's table says 28 layers while its prose counts the
        # 29 RootFS entries of `docker inspect`; the table figure is quoted.
        "layers": 28,
        "metric": "pull",
        "standard_seconds": 34.7,
        "streaming_seconds": 8.0,
        "streaming_kind": "Teleport",
        "replicas": 1,
    },
    {
        "source": "000/001 Project Teleport walkthrough",
        "scenario": "azure-vote-front:squashed",
        "image_size_bytes": 929 * MB,
        "layers": 1,
        "metric": "pull",
        "standard_seconds": 31.7,
        "streaming_seconds": 1.9,
        "streaming_kind": "Teleport",
        "replicas": 1,
    },
    {
        "source": "004 artifact streaming blog",
        "scenario": "5 GiB image, slow storage (Standard_D2_v5, no local disk)",
        "image_size_bytes": None,
        "layers": None,
        "metric": "running",
        "standard_seconds": 64.0,
        "streaming_seconds": 3.0,
        "streaming_kind": "artifact streaming",
        "replicas": 1,
    },
    {
        "source": "004 artifact streaming blog",
        "scenario": "5 GiB image, fast storage (Standard_D4ds_v5, local disk)",
        "image_size_bytes": None,
        "layers": None,
        "metric": "running",
        "standard_seconds": 14.0,
        "streaming_seconds": 3.0,
        "streaming_kind": "artifact streaming",
        "replicas": 1,
    },
    {
        "source": "004 artifact streaming blog",
        "scenario": "5 GiB image, fast storage, 10 replicas on one node (last pod Running)",
        "image_size_bytes": None,
        "layers": None,
        "metric": "running",
        "standard_seconds": 14.0,
        "streaming_seconds": 9.0,
        "streaming_kind": "artifact streaming",
        "replicas": 10,
    },
]


def reference_rows() -> list:
    rows = []
    for r in REFERENCE:
        row = dict(r)
        row["speedup"] = round(r["standard_seconds"] / r["streaming_seconds"], 2)
        rows.append(row)
    return rows
