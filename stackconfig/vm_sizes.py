"""What a VM size name says about the node: architecture, confidential computing, local disk.

Azure size names follow `Standard_<family><vCPUs>[-<constrained vCPUs>]<features>[_<accelerator>]_v<n>`;
the lower-case feature letters carry what preflight needs: `p` = Arm64 (Ampere), `a` = AMD, `d` = local
temp disk, `s` = premium storage capable, `e`/`a` in the DC/EC families = confidential VMs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SIZE_RE = re.compile(
    r"^(?:Standard|Basic)_(?P<family>[A-Z]+)(?P<vcpus>\d+)(?:-\d+)?(?P<features>[a-z]*)"
    r"(?:_(?P<accelerator>[A-Z][A-Za-z0-9]*))?(?:_v(?P<version>\d+))?$"
)

# Local disk (GiB) that can hold an Ephemeral OS disk: the larger of the cache and the temp (resource)
# disk, from the published size tables. Sizes not listed are checked by name only (see
# ephemeral_os_capacity_gib). AKS places the OS disk on the cache disk when it fits, else on the temp disk.
_LOCAL_DISK_GIB = {
    "Standard_D2ds_v4": 75,
    "Standard_D4ds_v4": 150,
    "Standard_D8ds_v4": 300,
    "Standard_D16ds_v4": 600,
    "Standard_D2ds_v5": 75,
    "Standard_D4ds_v5": 150,
    "Standard_D8ds_v5": 300,
    "Standard_D16ds_v5": 600,
    "Standard_D32ds_v5": 1200,
    "Standard_D2d_v5": 75,
    "Standard_D4d_v5": 150,
    "Standard_D8d_v5": 300,
    "Standard_D16d_v5": 600,
    "Standard_D2ads_v5": 75,
    "Standard_D4ads_v5": 150,
    "Standard_D8ads_v5": 300,
    "Standard_D16ads_v5": 600,
    "Standard_E2ds_v5": 75,
    "Standard_E4ds_v5": 150,
    "Standard_E8ds_v5": 300,
    "Standard_E16ds_v5": 600,
    "Standard_D2s_v3": 50,
    "Standard_D4s_v3": 100,
    "Standard_D8s_v3": 200,
    "Standard_D16s_v3": 400,
    "Standard_DS2_v2": 86,
    "Standard_DS3_v2": 172,
    "Standard_DS4_v2": 344,
}


@dataclass(frozen=True)
class VmSize:
    name: str
    family: str
    vcpus: int
    features: str
    version: int | None

    @property
    def is_arm64(self) -> bool:
        return "p" in self.features

    @property
    def is_confidential(self) -> bool:
        # DCasv5/DCadsv5/ECasv5/ECadsv5 (AMD SEV-SNP) and DCesv5/ECesv5 (Intel TDX) are confidential VMs;
        # DCsv2/DCsv3 are SGX enclave sizes, which run as ordinary VMs.
        return self.family in ("DC", "EC") and ("a" in self.features or "e" in self.features)

    @property
    def is_gen1_only(self) -> bool:
        # The A family (Basic_A*, Standard_A*_v2) has no Generation 2 image support.
        return self.family == "A"

    @property
    def has_local_disk(self) -> bool:
        if self.version is not None and self.version >= 4:
            return "d" in self.features
        return True  # v2/v3 and older sizes all carry a temp disk


def parse_vm_size(name: str) -> VmSize:
    match = _SIZE_RE.match(name)
    if not match:
        raise ValueError(f"{name!r} is not an Azure VM size name; allowed: e.g. Standard_D4ds_v5")
    version = match.group("version")
    return VmSize(
        name,
        match.group("family"),
        int(match.group("vcpus")),
        match.group("features"),
        int(version) if version else None,
    )


def ephemeral_os_capacity_gib(size: VmSize) -> int | None:
    """Local disk able to hold an Ephemeral OS disk, or None when this project does not know it."""
    return _LOCAL_DISK_GIB.get(size.name)
