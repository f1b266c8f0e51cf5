"""The stack configuration: frozen pydantic models, one per config object, with their rules.

One module per topic: `images.py` (imports, synthetic images, the registry), `cluster.py` (cluster and
pools), `workloads.py` (workloads and arms), `workload_rules.py` (workload rules across the stack),
`stack.py` (`StackConfig`), `base.py` (what they share). This module is the one import for the rest.
Every key's documentation is its `description`: `docs/configuration.md` is generated from it.
"""

from __future__ import annotations

from stackconfig.base import ConfigModel, Problems, is_derived
from stackconfig.cluster import (
    LINUX_OS_SKUS,
    NOT_IN_POOL_API,
    SYSTEM_POOL_OS_SKUS,
    ClusterConfig,
    PoolConfig,
    SystemPoolConfig,
)
from stackconfig.images import (
    MAX_SYNTHETIC_IMAGE_MB,
    MAX_SYNTHETIC_LAYERS,
    BuildConfig,
    CredentialsConfig,
    ImageConfig,
    RegistryConfig,
    SyntheticImageConfig,
    default_image_name,
)
from stackconfig.stack import StackConfig, TimeoutsConfig
from stackconfig.workload_rules import PAIR_IDENTICAL
from stackconfig.workloads import ArmConfig, ContainerConfig, ResourcesConfig, WorkloadConfig, object_names

__all__ = [
    "LINUX_OS_SKUS",
    "MAX_SYNTHETIC_IMAGE_MB",
    "MAX_SYNTHETIC_LAYERS",
    "NOT_IN_POOL_API",
    "PAIR_IDENTICAL",
    "SYSTEM_POOL_OS_SKUS",
    "ArmConfig",
    "BuildConfig",
    "ClusterConfig",
    "ConfigModel",
    "ContainerConfig",
    "CredentialsConfig",
    "ImageConfig",
    "PoolConfig",
    "Problems",
    "RegistryConfig",
    "ResourcesConfig",
    "StackConfig",
    "SyntheticImageConfig",
    "SystemPoolConfig",
    "TimeoutsConfig",
    "WorkloadConfig",
    "default_image_name",
    "is_derived",
    "object_names",
]
