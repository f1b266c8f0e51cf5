"""VM size names → architecture, confidential computing, local disk (the preflight's evidence)."""

import pytest

from stackconfig.vm_sizes import ephemeral_os_capacity_gib, parse_vm_size


@pytest.mark.parametrize(
    "name, arm64, confidential, local_disk",
    [
        ("Standard_D2_v5", False, False, False),
        ("Standard_D4ds_v5", False, False, True),
        ("Standard_D4ps_v5", True, False, False),
        ("Standard_D4pds_v5", True, False, True),
        ("Standard_E4pds_v5", True, False, True),
        ("Standard_DC4as_v5", False, True, False),
        ("Standard_EC8ads_v5", False, True, True),
        ("Standard_DC4es_v5", False, True, False),
        ("Standard_DC4s_v3", False, False, True),  # SGX enclave size, not a confidential VM
        ("Standard_D8s_v3", False, False, True),  # v3 sizes carry a temp disk without the 'd'
        ("Standard_D16-8ds_v5", False, False, True),  # constrained vCPU
    ],
)
def test_features(name, arm64, confidential, local_disk):
    size = parse_vm_size(name)
    assert (size.is_arm64, size.is_confidential, size.has_local_disk) == (arm64, confidential, local_disk)


def test_gen1_only_family():
    assert parse_vm_size("Standard_A2_v2").is_gen1_only
    assert not parse_vm_size("Standard_D2_v5").is_gen1_only


@pytest.mark.parametrize("name", ["D4ds_v5", "Standard_d4ds_v5", "Standard_", "standard_D4_v5"])
def test_not_a_size(name):
    with pytest.raises(ValueError, match="is not an Azure VM size name"):
        parse_vm_size(name)


def test_ephemeral_capacity_table():
    assert ephemeral_os_capacity_gib(parse_vm_size("Standard_D4ds_v5")) == 150
    assert ephemeral_os_capacity_gib(parse_vm_size("Standard_D2ds_v5")) == 75
    assert ephemeral_os_capacity_gib(parse_vm_size("Standard_D64ds_v5")) is None
