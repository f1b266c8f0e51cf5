"""Published throughput of a node: network bandwidth of its VM size, write throughput of its OS disk.

Figures are Azure's documented maxima (sources in docs/timing.md "Crossover"), copied by hand: no
price, nothing that expires. A managed OS disk is AKS's default 128 GiB one: Premium SSD P10 on sizes
with premium storage (`s`), Standard SSD E10 otherwise, capped by the size's uncached disk throughput;
an Ephemeral OS disk of a v5 `d` size lives on its temp disk.
"""

from __future__ import annotations

from dataclasses import dataclass

# Max network bandwidth (Mbps), the Dv5/Dsv5 and Ddv5/Ddsv5 size tables (same per vCPU count).
_NETWORK_MBPS_BY_VCPUS = {2: 12500, 4: 12500, 8: 12500, 16: 12500, 32: 16000, 48: 24000, 64: 30000, 96: 35000}
# Max temp storage throughput (MBps), the Ddv5/Ddsv5 size tables.
_TEMP_DISK_MB_S_BY_VCPUS = {2: 125, 4: 250, 8: 500, 16: 1000, 32: 2000, 48: 3000, 64: 4000, 96: 4000}
# Max uncached disk throughput (MBps), the Dsv5/Ddsv5 size tables.
_UNCACHED_MB_S_BY_VCPUS = {2: 85, 4: 145, 8: 290, 16: 600, 32: 865, 48: 1315, 64: 1735, 96: 2600}
# Base provisioned throughput of a 128 GiB OS disk: Premium SSD P10 100 MB/s; Standard SSD E10 60 MiB/s.
PREMIUM_P10_MB_S = 100.0
STANDARD_E10_MB_S = 60 * 1.048576
# Sizes the table covers: `Standard_D<vCPUs><features>_v5` with features "", "s", "d", "ds".
_FEATURES = ("", "s", "d", "ds")


@dataclass(frozen=True)
class NodeThroughput:
    vm_size: str
    os_disk_type: str
    network_mb_s: float
    disk_write_mb_s: float
    disk: str  # which figure the disk write is

    def to_json(self) -> dict:
        return {
            "vm_size": self.vm_size,
            "os_disk_type": self.os_disk_type,
            "network_mb_s": self.network_mb_s,
            "disk_write_mb_s": self.disk_write_mb_s,
            "disk": self.disk,
        }


def _parse(vm_size: str) -> tuple[int, str] | None:
    if not (vm_size.startswith("Standard_D") and vm_size.endswith("_v5")):
        return None
    middle = vm_size[len("Standard_D") : -len("_v5")]
    digits = "".join(ch for ch in middle if ch.isdigit())
    features = middle[len(digits) :]
    if not digits or features not in _FEATURES or int(digits) not in _NETWORK_MBPS_BY_VCPUS:
        return None
    return int(digits), features


def node_throughput(vm_size: str | None, os_disk_type: str | None) -> NodeThroughput | None:
    """The published figures for this VM size and OS disk type; None for a size the table lacks."""
    parsed = _parse(vm_size or "")
    if parsed is None or os_disk_type not in ("Managed", "Ephemeral"):
        return None
    assert vm_size is not None and os_disk_type is not None
    vcpus, features = parsed
    network = _NETWORK_MBPS_BY_VCPUS[vcpus] / 8
    if os_disk_type == "Ephemeral":
        if "d" not in features:
            return None
        return NodeThroughput(vm_size, os_disk_type, network, float(_TEMP_DISK_MB_S_BY_VCPUS[vcpus]), "temp disk")
    if "s" in features:
        disk = min(PREMIUM_P10_MB_S, float(_UNCACHED_MB_S_BY_VCPUS[vcpus]))
        return NodeThroughput(vm_size, os_disk_type, network, disk, "Premium SSD P10, VM uncached cap")
    return NodeThroughput(vm_size, os_disk_type, network, STANDARD_E10_MB_S, "Standard SSD E10")
