"""The seeds' experiments as ready-made configuration.

Each scenario is plain stack configuration (the same keys and shapes as `Pulumi.<stack>.yaml`), so a
stack file overrides any of it key by key: a key set in the stack replaces the scenario's value whole.
`activeWorkloads` picks which of a scenario's workloads run; the others keep their images and pools
but declare no Deployment, so switching variants never rebuilds the registry or the cluster.
"""

from __future__ import annotations

from typing import Any

from stackconfig.sweep import SweepConfig

# Imported once into the registry so every ACR task build starts from the registry's own copy.
# Sources come from Microsoft's MCR mirror of Docker library images where it has the tag: anonymous
# Docker Hub answers `toomanyrequests` under load.
MCR_DOCKER_LIBRARY = "mcr.microsoft.com/mirror/docker/library"
_ALPINE = {
    "name": "alpine",
    "source": f"{MCR_DOCKER_LIBRARY}/alpine:3.20",
    "target": "library/alpine:3.20",
    "streaming": False,
}
# The official busybox image's /bin/busybox is statically linked: copied into a synthetic image it
# runs the start-up read, the millisecond log lines and the HTTP readiness endpoint on any base.
# Docker Hub on purpose: the MCR mirror is known to carry busybox 1.35 and 1.28, not 1.37, and
# moving the tools image to another busybox release is a change of its own (docs/operations.md).
_BUSYBOX = {
    "name": "busybox",
    "source": "docker.io/library/busybox:1.37",
    "target": "library/busybox:1.37",
    "streaming": False,
}


def _teleport_ab() -> dict[str, Any]:
    # Seeds 000/001: azure-vote on a teleporter (streaming) and a shuttle (standard) pool, one node each.
    arms = [{"pool": "teleporter", "pair": "teleport"}, {"pool": "shuttle", "pair": "teleport"}]
    return {
        "images": [
            {
                "name": "azure-vote-front",
                "source": "mcr.microsoft.com/azuredocs/azure-vote-front:v1",
                "target": "azure-vote-front:v1",
                "streaming": True,
            },
            {
                "name": "redis",
                "source": "mcr.microsoft.com/oss/bitnami/redis:6.0.8",
                "target": "redis:6.0.8",
                "streaming": True,
            },
            # What `timing measure --reset purge` runs, pinned by digest from this registry.
            _BUSYBOX,
        ],
        # The seed's `docker build --squash`: the same front end in one layer (944 MB/28 layers vs 929 MB/1).
        "syntheticImages": [
            {
                "name": "azure-vote-front-squashed",
                "target": "azure-vote-front:squashed",
                "squashOf": "azure-vote-front",
                "streaming": True,
            },
        ],
        "pools": [
            {
                "name": "teleporter",
                "vmSize": "Standard_D2s_v5",
                "osDiskType": "Managed",
                "count": 1,
                "artifactStreaming": True,
            },
            {
                "name": "shuttle",
                "vmSize": "Standard_D2s_v5",
                "osDiskType": "Managed",
                "count": 1,
                "artifactStreaming": False,
            },
        ],
        "workloads": [
            {
                "name": "vote",
                "template": "azure-vote",
                "image": "azure-vote-front",
                "backendImage": "redis",
                "arms": [{"name": "vote-teleporter", **arms[0]}, {"name": "vote-shuttle", **arms[1]}],
            },
            {
                "name": "vote-squashed",
                "template": "azure-vote",
                "image": "azure-vote-front-squashed",
                "backendImage": "redis",
                "arms": [{"name": "squashed-teleporter", **arms[0]}, {"name": "squashed-shuttle", **arms[1]}],
            },
        ],
        "activeWorkloads": ["vote"],
    }


def _storage_matrix() -> dict[str, Any]:
    # Seed 004: the blog's 5 000 MB `dd` image on slow (Standard_D2_v5: no local disk, no premium
    # storage, managed OS disk) and fast (Standard_D4ds_v5, ephemeral OS disk on the local disk) nodes.
    def pool(name: str, fast: bool, streaming: bool) -> dict[str, Any]:
        return {
            "name": name,
            "vmSize": "Standard_D4ds_v5" if fast else "Standard_D2_v5",
            "osDiskType": "Ephemeral" if fast else "Managed",
            "count": 1,
            "artifactStreaming": streaming,
        }

    return {
        "images": [_ALPINE, _BUSYBOX],
        "syntheticImages": [
            # /dev/zero, as in the blog: the layer compresses to a few MB, so this measures unpacking and
            # writing 5 GB on the node far more than moving it over the network.
            {
                "name": "largeimage",
                "target": "largeimage/test:v1",
                "sizeMb": 5000,
                "layers": 1,
                "fill": "zero",
                "baseImage": "alpine",
                "streaming": True,
            },
        ],
        "pools": [
            pool("slowart", False, True),
            pool("slownoart", False, False),
            pool("fastart", True, True),
            pool("fastnoart", True, False),
        ],
        "workloads": [
            {
                "name": "big",
                "template": "single",
                "image": "largeimage",
                "replicas": 1,
                "arms": [
                    {"pool": "slowart", "pair": "slow"},
                    {"pool": "slownoart", "pair": "slow"},
                    {"pool": "fastart", "pair": "fast"},
                    {"pool": "fastnoart", "pair": "fast"},
                ],
            },
            # `big` reads the whole payload before it reports ready (startupReadMb defaults to all of it),
            # and its pods log when the container started (the blog's bare start) and when the read was
            # done, so one run shows both. `big-bare` is the blog's setup exactly: no read at all.
            {
                "name": "big-bare",
                "template": "single",
                "image": "largeimage",
                "replicas": 1,
                "startupReadMb": 0,
                "arms": [
                    {"pool": "slowart", "pair": "slow"},
                    {"pool": "slownoart", "pair": "slow"},
                    {"pool": "fastart", "pair": "fast"},
                    {"pool": "fastnoart", "pair": "fast"},
                ],
            },
            # The blog's last test: 10 replicas on one fast node each side. Same image as `big`, so it
            # is a variant to run instead of `big` (activeWorkloads: [big10]), never beside it.
            {
                "name": "big10",
                "template": "single",
                "image": "largeimage",
                "replicas": 10,
                "arms": [{"pool": "fastart", "pair": "fast"}, {"pool": "fastnoart", "pair": "fast"}],
            },
        ],
        "activeWorkloads": ["big"],
    }


LAYER_GRID_SIZES_MB = (1000, 3000)
LAYER_GRID_LAYERS = (1, 8, 28)


def _layers() -> dict[str, Any]:
    # "Layers vs size" (seed 000's 28-layer vs squashed table), with random fill so that compressed size
    # equals image size and the network part is real.
    grid = [(size, layers) for size in LAYER_GRID_SIZES_MB for layers in LAYER_GRID_LAYERS]
    return {
        "images": [_ALPINE, _BUSYBOX],
        "syntheticImages": [
            {
                "name": f"s{size}-l{layers}",
                "target": f"layers/s{size}-l{layers}:v1",
                "sizeMb": size,
                "layers": layers,
                "fill": "random",
                "baseImage": "alpine",
                "streaming": True,
            }
            for size, layers in grid
        ],
        "pools": [
            {
                "name": "streamon",
                "vmSize": "Standard_D4ds_v5",
                "osDiskType": "Ephemeral",
                "count": 1,
                "artifactStreaming": True,
            },
            {
                "name": "streamoff",
                "vmSize": "Standard_D4ds_v5",
                "osDiskType": "Ephemeral",
                "count": 1,
                "artifactStreaming": False,
            },
        ],
        "workloads": [
            {
                "name": f"s{size}-l{layers}",
                "template": "single",
                "image": f"s{size}-l{layers}",
                "arms": [{"pool": "streamon"}, {"pool": "streamoff"}],
            }
            for size, layers in grid
        ],
    }


def _crossover() -> dict[str, Any]:
    # Issue 20 §3, where streaming stops helping: one random-filled 2 000 MB image, five workloads that
    # read 0, 1, 5, 25 and 100 % of it before ready, all paired on one streaming and one standard pool.
    return {
        "images": [_ALPINE, _BUSYBOX],
        "pools": [
            {
                "name": name,
                "vmSize": "Standard_D4ds_v5",
                "osDiskType": "Ephemeral",
                "count": 1,
                "artifactStreaming": streaming,
            }
            for name, streaming in (("xon", True), ("xoff", False))
        ],
        "sweep": {
            "factor": "readPercent",
            "values": [0, 1, 5, 25, 100],
            "sizeMb": 2000,
            "layers": 1,
            "fill": "random",
            "baseImage": "alpine",
            "pools": ["xon", "xoff"],
        },
    }


def _sweep_images(scenario: dict[str, Any]) -> list[dict[str, Any]]:
    if "sweep" not in scenario:
        return []
    return [i.model_dump(by_alias=True) for i in SweepConfig.model_validate(scenario["sweep"]).images()]


def _all_images(scenarios: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A registry stack's scenario: every image and synthetic image of every experiment, and nothing else."""
    images: dict[str, dict[str, Any]] = {}
    synthetic: dict[str, dict[str, Any]] = {}
    for scenario in scenarios.values():
        for image in scenario.get("images", []):
            images.setdefault(image["name"], image)
        for image in [*scenario.get("syntheticImages", []), *_sweep_images(scenario)]:
            synthetic.setdefault(image["name"], image)
    return {"role": "registry", "images": list(images.values()), "syntheticImages": list(synthetic.values())}


EXPERIMENTS: dict[str, dict[str, Any]] = {
    "teleport-ab": _teleport_ab(),
    "storage-matrix": _storage_matrix(),
    "layers": _layers(),
    "crossover": _crossover(),
}
REGISTRY_SCENARIO = "all-images"
SCENARIOS: dict[str, dict[str, Any]] = {**EXPERIMENTS, REGISTRY_SCENARIO: _all_images(EXPERIMENTS)}
DEFAULT_SCENARIO = "storage-matrix"
