"""Typed stack configuration: scenarios, stack files, and every bad-input case of issue 2.

Each bad input must produce one ConfigError line that names the full config key and what is allowed,
and the program must declare nothing.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from contract import PROJECT
from offline.harness import config_values, evaluate
from stackconfig.errors import ConfigError
from stacks import scenarios
from stacks.config import parse_stack_config, read_pulumi_config

ROOT = Path(__file__).resolve().parents[2]
BASE = {"scenario": "teleport-ab", "location": "westus3"}
GOOD_IMAGE = {
    "source": "mcr.microsoft.com/azuredocs/azure-vote-front:v1",
    "target": "azure-vote-front:v1",
    "streaming": True,
}

HELLO_WORLD = {
    "name": "hello-world",
    "source": "mcr.microsoft.com/hello-world:latest",
    "target": "library/hello-world:latest",
    "streaming": False,
}


def problems_for(values: dict) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(values)
    return raised.value.problems


def with_images(*images: dict, **extra) -> dict:
    # Teleport's workloads reference its own images; keep them so that only the case under test fails.
    teleport = copy.deepcopy(scenarios.SCENARIOS["teleport-ab"]["images"])
    return {**BASE, "images": [*teleport, *images], **extra}


@pytest.mark.parametrize("scenario", sorted(scenarios.EXPERIMENTS))
def test_every_scenario_parses(scenario):
    config = parse_stack_config({"scenario": scenario, "location": "westus3"})
    assert config.scenario == scenario
    assert config.images and config.pools and config.workloads
    assert any(p.artifact_streaming for p in config.pools) and any(not p.artifact_streaming for p in config.pools)


@pytest.mark.parametrize("stack_file", sorted(ROOT.glob("Pulumi.*.yaml")), ids=lambda p: p.name)
def test_stack_files_parse(stack_file):
    values = {
        k.split(":", 1)[1]: v
        for k, v in yaml.safe_load(stack_file.read_text())["config"].items()
        if k.startswith(PROJECT + ":")
    }
    parse_stack_config(values)


def test_dev_stack_is_the_storage_matrix():
    values = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    config = parse_stack_config({k.split(":", 1)[1]: v for k, v in values.items()})
    assert config.scenario == "storage-matrix"
    by_name = {p.name: p for p in config.pools}
    assert set(by_name) == {"slowart", "slownoart", "fastart", "fastnoart"}
    assert by_name["slowart"].vm_size == by_name["slownoart"].vm_size == "Standard_D2_v5"
    assert by_name["fastart"].vm_size == by_name["fastnoart"].vm_size == "Standard_D4ds_v5"
    assert by_name["fastart"].os_disk_type == "Ephemeral" and by_name["slowart"].os_disk_type == "Managed"
    assert by_name["slowart"].artifact_streaming and not by_name["slownoart"].artifact_streaming
    big = config.synthetic_images[0]
    assert (big.size_mb, big.layers, big.fill) == (5000, 1, "zero")


def test_stack_values_replace_scenario_values_whole():
    config = parse_stack_config(
        {
            **BASE,
            "images": [GOOD_IMAGE, {**GOOD_IMAGE, "target": "redis:6.0.8", "name": "redis"}, HELLO_WORLD],
            "syntheticImages": [],
            "workloads": [],
            "activeWorkloads": [],
        }
    )
    assert [i.name for i in config.images] == ["azure-vote-front-v1", "redis", "hello-world"]
    assert config.synthetic_images == ()


def test_digest_sources_are_accepted():
    digest = "sha256:" + "4ef83ea6b0f7763c230e696709d8d8c398e21f65542db36e82961908bcf58d18"
    config = parse_stack_config(
        with_images(
            {
                "source": f"mcr.microsoft.com/oss/bitnami/redis@{digest}",
                "target": "pinned/redis:6.0.8",
                "streaming": False,
            }
        )
    )
    (pinned,) = [i for i in config.images if i.target == "pinned/redis:6.0.8"]
    assert pinned.source.endswith(digest)


@pytest.mark.parametrize(
    "values, key, allowed",
    [
        ({"scenario": "teleport-ab"}, "location", "required"),
        ({**BASE, "images": [{"target": "x:y"}]}, "images[0].source", "required"),
        ({**BASE, "colour": "blue"}, "colour", "unknown key"),
        ({**BASE, "registry": {"sku": "Premium", "adminUser": True}}, "registry.adminUser", "unknown key"),
        ({**BASE, "images": [{**GOOD_IMAGE, "streaming": "yes"}]}, "images[0].streaming", "valid boolean"),
        ({**BASE, "pools": "teleporter"}, "pools", "valid list"),
        ({**BASE, "scenario": "teleport"}, "scenario", "teleport-ab, storage-matrix, layers"),
        ({**BASE, "registry": {"sku": "Gold"}}, "registry.sku", "'Basic', 'Standard' or 'Premium'"),
    ],
)
def test_shape_errors_name_the_key(values, key, allowed):
    problems = problems_for(values)
    assert any(p.startswith(f"{PROJECT}:{key}:") and allowed in p for p in problems), problems


def test_non_premium_registry_with_streaming_images():
    problems = problems_for({**BASE, "registry": {"sku": "Standard"}})
    assert (
        f"{PROJECT}:registry.sku: 'Standard' does not support artifact streaming, which this stack uses; "
        "allowed: Premium" in problems
    )


@pytest.mark.parametrize(
    "source",
    [
        "azure-vote-front:v1",  # no registry host
        "mcr.microsoft.com/azuredocs/azure-vote-front",  # no tag or digest
        "mcr.microsoft.com/Azuredocs/front:v1",  # upper-case repository
        "mcr.microsoft.com/azuredocs/front@sha256:abc",  # short digest
        "mcr.microsoft.com/azuredocs/front:v1@sha256:" + "0" * 64,  # both tag and digest
    ],
)
def test_bad_image_sources(source):
    problems = problems_for(with_images({**GOOD_IMAGE, "source": source, "target": "other:v1"}))
    index = len(scenarios.SCENARIOS["teleport-ab"]["images"])
    assert any(
        p.startswith(
            f"{PROJECT}:images[{index}].source: {source!r} is not an image reference; allowed: "
            "registry/repo:tag or registry/repo@sha256:<64 hex>"
        )
        for p in problems
    ), problems


@pytest.mark.parametrize("target", ["azure-vote-front", "Upper/x:y", "Upper:v1", "repo:"])
def test_bad_image_targets(target):
    problems = problems_for(with_images({**GOOD_IMAGE, "target": target}))
    assert any(".target:" in p and "is not a repo:tag inside the registry" in p for p in problems), problems


def test_duplicate_targets():
    problems = problems_for(with_images({**GOOD_IMAGE, "name": "again"}))
    assert any(
        p.startswith(
            f"{PROJECT}:images[{len(scenarios.SCENARIOS['teleport-ab']['images'])}].target: duplicate target "
            f"'azure-vote-front:v1' (also at {PROJECT}:images[0].target)"
        )
        for p in problems
    ), problems


def test_empty_image_list():
    problems = problems_for({**BASE, "images": []})
    assert (
        f"{PROJECT}:images: the image list is empty; allowed: at least one {{source, target, streaming}} "
        "entry" in problems
    )


@pytest.mark.parametrize("prefix", ["Stream", "stream-ab", "9lives", "", "a" * 45])
def test_name_prefix_that_cannot_make_a_registry_name(prefix):
    problems = problems_for({**BASE, "namePrefix": prefix})
    assert any(
        p.startswith(f"{PROJECT}:namePrefix: {prefix!r} cannot produce a valid registry name (5-50 alphanumerics")
        for p in problems
    ), problems


def test_longest_valid_prefix_fits_a_registry_name():
    config = parse_stack_config({**BASE, "namePrefix": "a" * 44})
    assert len(config.name_prefix) + 6 == 50


def test_all_problems_are_reported_at_once():
    problems = problems_for({**BASE, "namePrefix": "Bad", "registry": {"sku": "Basic"}, "cacheGeneration": -1})
    keys = {p.split(":")[1] for p in problems}
    assert {"namePrefix", "registry.sku", "cacheGeneration"} <= keys


def test_unknown_top_level_key_in_the_running_stack():
    import pulumi

    pulumi.runtime.set_all_config({**config_values(BASE), f"{PROJECT}:imagez": "[]", "azure-native:location": "x"})
    with pytest.raises(ConfigError) as raised:
        read_pulumi_config()
    assert raised.value.problems[0].startswith(f"{PROJECT}:imagez: unknown key; allowed: scenario, location")


def test_structured_values_are_decoded_from_the_engine_strings():
    import pulumi

    pulumi.runtime.set_all_config(config_values({**BASE, "cacheGeneration": 3, "images": [GOOD_IMAGE]}))
    values = read_pulumi_config()
    assert values["cacheGeneration"] == 3 and values["images"][0]["target"] == "azure-vote-front:v1"


def test_bad_config_declares_nothing():
    from stacks.config import load_stack_config

    def program():
        load_stack_config()  # what __main__.py does first
        raise AssertionError("load_stack_config accepted a bad config")

    with pytest.raises(ConfigError):
        evaluate(program, {**BASE, "registry": {"sku": "Basic"}})
    # The harness records every registration; a fresh evaluation of nothing proves the recorder works.
    assert evaluate(lambda: {}, BASE).resources == []


def test_parked_stack_sets_every_experiment_pool_to_zero_and_keeps_the_rest():
    running = parse_stack_config(BASE)
    parked = parse_stack_config({**BASE, "parked": True})
    assert [p.count for p in running.pools] == [1, 1]
    assert [p.count for p in parked.pools] == [0, 0]
    assert [p.name for p in parked.pools] == [p.name for p in running.pools]
    assert parked.images == running.images and parked.cluster == running.cluster


def _teleport_workload(**changes) -> dict:
    workload = copy.deepcopy(scenarios.SCENARIOS["teleport-ab"]["workloads"][0])
    workload.update(changes)
    return workload


def test_arm_names_must_start_with_a_letter():
    workload = _teleport_workload(arms=[{"name": "1st", "pool": "teleporter"}, {"pool": "shuttle"}])
    problems = problems_for({**BASE, "workloads": [workload]})
    assert any(p.startswith(f"{PROJECT}:workloads[0].arms[0].name: '1st' is not an arm name") for p in problems)


def test_colliding_kubernetes_object_names():
    # Arm `x-front` (single) would be named like arm `x`'s azure-vote front Deployment.
    vote = _teleport_workload(arms=[{"name": "x", "pool": "teleporter"}, {"name": "y", "pool": "shuttle"}])
    single = {
        "name": "solo",
        "template": "single",
        "image": "redis",
        "arms": [{"name": "x-front", "pool": "teleporter"}, {"name": "z", "pool": "shuttle"}],
    }
    problems = problems_for({**BASE, "workloads": [vote, single], "activeWorkloads": ["vote", "solo"]})
    assert any(
        p.startswith(f"{PROJECT}:workloads[1].arms: duplicate Kubernetes object name 'x-front'") for p in problems
    ), problems


@pytest.mark.parametrize(
    "resources, key, message",
    [
        ({"cpuRequest": "lots"}, "cpuRequest", "is not a CPU quantity"),
        ({"memoryLimit": "12 apples"}, "memoryLimit", "is not a memory quantity"),
        ({"cpuRequest": "500m", "cpuLimit": "250m"}, "cpuRequest", "request exceeds cpuLimit"),
        ({"memoryRequest": "1Gi", "memoryLimit": "256Mi"}, "memoryRequest", "request exceeds memoryLimit"),
    ],
)
def test_resource_quantities(resources, key, message):
    problems = problems_for({**BASE, "workloads": [_teleport_workload(resources=resources)]})
    assert any(p.startswith(f"{PROJECT}:workloads[0].resources.{key}:") and message in p for p in problems)


def test_token_mode_allows_standard_only_arms_and_refuses_streaming_pools():
    standard_only = {
        **BASE,
        "cluster": {"pullMode": "token"},
        "pools": [
            {"name": "shuttle", "vmSize": "Standard_D2s_v5", "artifactStreaming": False},
            {"name": "shuttle2", "vmSize": "Standard_D2s_v5", "artifactStreaming": False},
        ],
        "workloads": [_teleport_workload(arms=[{"pool": "shuttle"}, {"pool": "shuttle2"}])],
    }
    assert parse_stack_config(standard_only).cluster.pull_mode == "token"
    problems = problems_for({**BASE, "cluster": {"pullMode": "token"}})
    assert any(
        p.startswith(
            f"{PROJECT}:pools[0].artifactStreaming: pool 'teleporter': artifact streaming does "
            "not support pulls with Kubernetes registry credentials"
        )
        for p in problems
    )


def _pool(**changes) -> dict:
    return {"name": "extra", "vmSize": "Standard_D2s_v5", "artifactStreaming": False, **changes}


@pytest.mark.parametrize(
    "pool, key, message",
    [
        (_pool(vmSize="Standard_D4ps_v5"), "vmSize", "every experiment pool needs an AMD64 size"),
        (_pool(osSku="AzureLinuxOSGuard"), "osSku", "is not available in the AKS agent-pool API"),
        (_pool(workloadRuntime="KataMshvVmIsolation"), "workloadRuntime", "is not available in the AKS agent-pool"),
        (_pool(name="system"), "name", "is the system pool's name"),
        (_pool(artifactStreaming=True, osSku="AzureLinux3"), "osSku", "artifact streaming does not support"),
    ],
)
def test_pool_rules_for_every_pool(pool, key, message):
    pools = [*scenarios.SCENARIOS["teleport-ab"]["pools"], pool]
    problems = problems_for({**BASE, "pools": pools})
    assert any(p.startswith(f"{PROJECT}:pools[2].{key}: pool {pool['name']!r}") and message in p for p in problems), (
        problems
    )


def _matrix(**changes) -> dict:
    values = {"location": "westus3", "scenario": "storage-matrix"}
    synthetic = copy.deepcopy(scenarios.SCENARIOS["storage-matrix"]["syntheticImages"])
    workloads = copy.deepcopy(scenarios.SCENARIOS["storage-matrix"]["workloads"])
    for key, value in changes.items():
        target, _, field = key.partition("__")
        (synthetic[0] if target == "image" else workloads[0])[field] = value
    return {**values, "syntheticImages": synthetic, "workloads": workloads}


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"image__startupReadMb": 5001}, "syntheticImages[0].startupReadMb: 5001 MB cannot be read from a 5000 MB"),
        ({"image__startupReadMb": -1}, "syntheticImages[0].startupReadMb: -1 MB cannot be read"),
        ({"workload__startupReadMb": 6000}, "workloads[0].startupReadMb: 6000 MB cannot be read from the 5000 MB"),
        ({"image__toolsImage": "nosuch"}, "syntheticImages[0].toolsImage: 'nosuch' is neither a configured image"),
    ],
)
def test_startup_read_problems_name_the_key(changes, expected):
    problems = problems_for(_matrix(**changes))
    assert any(expected in p for p in problems), problems


def test_startup_read_only_where_there_is_a_read():
    values = {**BASE, "workloads": copy.deepcopy(scenarios.SCENARIOS["teleport-ab"]["workloads"])}
    values["workloads"][0]["startupReadMb"] = 10
    (problem,) = problems_for(values)
    assert "workloads[0].startupReadMb: 'azure-vote-front' is not a filled synthetic image" in problem
    squash = copy.deepcopy(scenarios.SCENARIOS["teleport-ab"]["syntheticImages"])
    squash[0]["startupReadMb"] = 10
    (problem,) = problems_for({**BASE, "syntheticImages": squash})
    assert "syntheticImages[0].startupReadMb: a squashed copy keeps its source's own start command" in problem


def test_startup_read_defaults_to_the_whole_payload():
    config = parse_stack_config(_matrix())
    assert config.synthetic_images[0].read_mb == 5000
    assert parse_stack_config(_matrix(image__startupReadMb=0)).synthetic_images[0].read_mb == 0


# --- the holes of issue 13: each bad value refused, naming its key ---------------------------------
def _pools(**changes_by_index) -> list[dict]:
    pools = copy.deepcopy(scenarios.SCENARIOS["storage-matrix"]["pools"])
    for index, changes in changes_by_index.items():
        pools[int(index.removeprefix("p"))].update(changes)
    return pools


MATRIX = {"scenario": "storage-matrix", "location": "westus3"}
ADDED = len(scenarios.SCENARIOS["teleport-ab"]["images"])  # the index `with_images` appends at


@pytest.mark.parametrize(
    "values, key, words",
    [
        ({**BASE, "location": "westus3\n"}, "location", "not an Azure region name"),
        (with_images({**GOOD_IMAGE, "target": "other:v1\n"}), f"images[{ADDED}].target", "not a repo:tag"),
        ({**BASE, "workloadNamespace": "kube-system"}, "workloadNamespace", "Kubernetes keeps for itself"),
        ({**BASE, "workloadNamespace": "default"}, "workloadNamespace", "Kubernetes keeps for itself"),
        ({**BASE, "loadBalancerSourceRanges": ["999.999.999.999/99"]}, "loadBalancerSourceRanges[0]", "not a CIDR"),
        ({**BASE, "loadBalancerSourceRanges": ["10.0.0.1/24"]}, "loadBalancerSourceRanges[0]", "host bits set"),
        ({**BASE, "loadBalancerSourceRanges": ["10.0.0.1"]}, "loadBalancerSourceRanges[0]", "no prefix length"),
        ({**BASE, "registry": {"existingResourceGroup": ""}}, "registry.existingResourceGroup", "not a resource group"),
        ({**BASE, "registry": {"existingResourceGroup": "rg."}}, "registry.existingResourceGroup", "not ending in"),
        (
            {**BASE, "cluster": {"systemPool": {"osSku": "AzureLinuxOSGuard"}}},
            "cluster.systemPool.osSku",
            "'Ubuntu'",
        ),
        (
            with_images({**GOOD_IMAGE, "target": "other:v1", "name": "Front_End"}),
            f"images[{ADDED}].name",
            "not an image name",
        ),
        ({**BASE, "cluster": {"kubernetesVersion": "1.25"}}, "cluster.kubernetesVersion", "1.26 or newer"),
        ({**BASE, "cluster": {"kubernetesVersion": "1.x"}}, "cluster.kubernetesVersion", "not a Kubernetes version"),
        ({**BASE, "cluster": {"kubernetesVersion": "1.033"}}, "cluster.kubernetesVersion", "not a Kubernetes version"),
        (
            {**MATRIX, "pools": _pools(p0={"labels": {"kubernetes.io/role": "x"}})},
            "pools[0].labels",
            "kubernetes.io belongs to Kubernetes",
        ),
        (
            {**MATRIX, "pools": _pools(p0={"labels": {"node.kubernetes.io/x": "y"}})},
            "pools[0].labels",
            "kubernetes.io belongs to Kubernetes",
        ),
        ({**MATRIX, "pools": _pools(p0={"labels": {"k8s.io/x": "y"}})}, "pools[0].labels", "k8s.io"),
        (
            {**MATRIX, "pools": _pools(p0={"labels": {"kubernetes.azure.com/mode": "y"}})},
            "pools[0].labels",
            "belongs to AKS",
        ),
        (
            {**MATRIX, "registry": {"autoConvertRepositories": ["nowhere/at-all"]}},
            "registry.autoConvertRepositories[0]",
            "receives no image from this stack",
        ),
    ],
)
def test_config_holes_are_closed(values, key, words):
    problems = problems_for(values)
    assert any(p.startswith(f"{PROJECT}:{key}:") and words in p for p in problems), problems


def test_an_explicit_kubernetes_version_is_accepted_as_given():
    assert parse_stack_config({**BASE, "cluster": {"kubernetesVersion": "1.34"}}).cluster.kubernetes_version == "1.34"
    assert (
        parse_stack_config({**BASE, "cluster": {"kubernetesVersion": "1.34.2"}}).cluster.kubernetes_version == "1.34.2"
    )
    assert parse_stack_config(BASE).cluster.kubernetes_version is None


@pytest.mark.parametrize(
    "changes, differ",
    [
        ({"p2": {"vmSize": "Standard_D8ds_v5"}}, "vmSize"),
        ({"p0": {"osSku": "AzureLinux"}}, "osSku"),
        ({"p1": {"count": 2}}, "count"),
        ({"p3": {"osDiskSizeGB": 100}}, "osDiskSizeGB"),
    ],
)
def test_the_arms_of_a_pair_run_on_identical_pools(changes, differ):
    problems = problems_for({**MATRIX, "pools": _pools(**changes)})
    assert any(
        p.startswith(f"{PROJECT}:workloads[0].arms: workload 'big', pair ") and f"differ in {differ}" in p
        for p in problems
    ), problems


def test_auto_conversion_names_that_collide_are_refused():
    synthetic = copy.deepcopy(scenarios.SCENARIOS["storage-matrix"]["syntheticImages"])
    synthetic.append({**synthetic[0], "name": "other", "target": "largeimage-test:v1"})
    problems = problems_for(
        {
            **MATRIX,
            "syntheticImages": synthetic,
            "registry": {"autoConvertRepositories": ["largeimage/test", "largeimage-test"]},
        }
    )
    assert any(
        p.startswith(f"{PROJECT}:registry.autoConvertRepositories[1]: duplicate auto-conversion resource name")
        for p in problems
    ), problems


# --- acrPull and the pull check (issue 18 §3, issue 20 §4) -------------------------------------
def test_acr_pull_defaults_to_assign_and_the_pull_check_to_hello_world():
    config = parse_stack_config(BASE)
    assert config.cluster.acr_pull == "assign" and config.cluster.pull_check_image == "hello-world"
    assert config.timeouts.pull_check_minutes == 20
    assert parse_stack_config({**BASE, "cluster": {"acrPull": "external"}}).cluster.acr_pull == "external"


def test_bad_acr_pull_values_name_the_key():
    (problem,) = problems_for({**BASE, "cluster": {"acrPull": "admin"}})
    assert problem.startswith("acr-streaming-ab:cluster.acrPull:") and "assign" in problem and "external" in problem
    pools = copy.deepcopy(scenarios.SCENARIOS["teleport-ab"]["pools"])
    for pool in pools:
        pool["artifactStreaming"] = False
    problems = problems_for(
        {
            **BASE,
            "pools": pools,
            "workloads": [],
            "activeWorkloads": [],
            "cluster": {"pullMode": "token", "acrPull": "external"},
        }
    )
    assert problems == [
        "acr-streaming-ab:cluster.acrPull: `external` waits for an AcrPull role assignment, which cluster.pullMode: "
        "token does not use; allowed: assign (with pullMode: token), or pullMode: attach"
    ]


def test_the_default_pull_check_image_joins_the_images_and_any_other_must_be_configured():
    config = parse_stack_config(BASE)  # the scenario lists no hello-world
    (hello,) = [i for i in config.images if i.name == "hello-world"]
    assert (hello.source, hello.target, hello.streaming) == (
        "mcr.microsoft.com/hello-world:latest",
        "library/hello-world:latest",
        False,
    )
    # Listed by the stack itself: kept as given, never twice.
    listed = parse_stack_config(with_images({**HELLO_WORLD, "streaming": True}))
    assert [i.streaming for i in listed.images if i.name == "hello-world"] == [True]
    (problem,) = problems_for({**BASE, "cluster": {"pullCheckImage": "azure-vote-front-squashed"}})
    assert problem == (
        "acr-streaming-ab:cluster.pullCheckImage: 'azure-vote-front-squashed' is not a configured imported image; "
        "allowed: azure-vote-front, redis, busybox"
    )  # another name: the default image is not added


@pytest.mark.parametrize(
    ("values", "user"),
    [
        ({**BASE, "cluster": {"pullCheckImage": "redis"}}, "workload 'vote'"),
        ({"scenario": "storage-matrix", "location": "westus3", "cluster": {"pullCheckImage": "alpine"}}, "synthetic"),
        ({"scenario": "storage-matrix", "location": "westus3", "cluster": {"pullCheckImage": "busybox"}}, "synthetic"),
    ],
)
def test_the_pull_check_image_shares_nothing_with_a_measured_image(values, user):
    (problem,) = problems_for(values)
    assert problem.startswith(f"acr-streaming-ab:cluster.pullCheckImage: {values['cluster']['pullCheckImage']!r} ")
    assert user in problem and "would be on the nodes before the first trial" in problem


def test_the_pull_check_image_is_compared_by_source_too():
    storage = {"scenario": "storage-matrix", "location": "westus3"}
    synthetic = copy.deepcopy(scenarios.SCENARIOS["storage-matrix"]["syntheticImages"])
    synthetic[0]["baseImage"] = "mcr.microsoft.com/hello-world:latest"  # a full reference, not the name
    (problem,) = problems_for({**storage, "syntheticImages": synthetic})
    assert problem.startswith("acr-streaming-ab:cluster.pullCheckImage: 'hello-world' is also used by synthetic")
    images = copy.deepcopy(scenarios.SCENARIOS["teleport-ab"]["images"])
    images.append({**HELLO_WORLD, "name": "hello-copy", "target": "copy/hello-world:latest"})
    workloads = copy.deepcopy(scenarios.SCENARIOS["teleport-ab"]["workloads"])
    workloads[0]["backendImage"] = "hello-copy"  # the same source under another name
    (problem,) = problems_for({**BASE, "images": images, "workloads": workloads})
    assert "is also used by workload 'vote'" in problem


def test_a_registry_stack_has_no_pull_check_to_validate():
    config = parse_stack_config({"role": "registry", "location": "westus3", "cluster": {"pullCheckImage": "nope"}})
    assert config.is_registry_stack


@pytest.mark.parametrize("minutes", [0, 24 * 60 + 1])
def test_bad_pull_check_timeout(minutes):
    (problem,) = problems_for({**BASE, "timeouts": {"pullCheckMinutes": minutes}})
    assert problem.startswith("acr-streaming-ab:timeouts.pullCheckMinutes:")


def test_cache_generation_stays_a_safe_integer():
    assert parse_stack_config({**BASE, "cacheGeneration": 2**53 - 1}).cache_generation == 2**53 - 1
    (problem,) = problems_for({**BASE, "cacheGeneration": 2**53})
    assert problem.startswith("acr-streaming-ab:cacheGeneration: 9007199254740992 is not a safe integer")


def test_docker_library_images_come_from_the_mcr_mirror_where_it_has_the_tag():
    sources = {i["name"]: i["source"] for s in scenarios.SCENARIOS.values() for i in s.get("images", [])}
    assert sources["alpine"] == "mcr.microsoft.com/mirror/docker/library/alpine:3.20"
    # The one Docker Hub fallback (the mirror carries busybox 1.35 and 1.28, not 1.37).
    assert [n for n, s in sources.items() if s.startswith("docker.io/")] == ["busybox"]


def test_ubuntu_2404_streaming_pools_are_accepted():
    pools = [*scenarios.SCENARIOS["teleport-ab"]["pools"], _pool(artifactStreaming=True, osSku="Ubuntu2404")]
    config = parse_stack_config({**BASE, "pools": pools})
    assert config.pool("extra").os_sku == "Ubuntu2404" and config.pool("extra").artifact_streaming


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0"])
def test_internet_wide_load_balancer_ranges_need_public_endpoints(cidr):
    (problem,) = problems_for({**BASE, "loadBalancerSourceRanges": ["203.0.113.0/24", cidr]})
    assert problem.startswith(f"acr-streaming-ab:loadBalancerSourceRanges[1]: {cidr} opens the front ends")
    public = parse_stack_config({**BASE, "loadBalancerSourceRanges": [cidr], "publicEndpoints": True})
    assert public.load_balancer_source_ranges == (cidr,)


@pytest.mark.parametrize(
    "ranges, covered",
    [
        (["0.0.0.0/1", "128.0.0.0/1"], "0.0.0.0/0"),
        (["::ffff:0.0.0.0/97", "128.0.0.0/1"], "0.0.0.0/0"),
        (["0.0.0.0/2", "64.0.0.0/2", "::ffff:128.0.0.0/97"], "0.0.0.0/0"),
    ],
)
def test_ranges_that_together_cover_the_internet_need_public_endpoints(ranges, covered):
    (problem,) = problems_for({**BASE, "loadBalancerSourceRanges": ranges})
    assert problem.startswith(f"acr-streaming-ab:loadBalancerSourceRanges: together the ranges cover {covered}")
    assert parse_stack_config({**BASE, "loadBalancerSourceRanges": ranges, "publicEndpoints": True})


# ::/64 holds every IPv4-mapped address, so alone it admits all of IPv4.
@pytest.mark.parametrize("cidr", ["0.0.0.0/00", "::ffff:0.0.0.0/96", "::/64"])
def test_other_spellings_of_the_whole_internet_need_public_endpoints(cidr):
    (problem,) = problems_for({**BASE, "loadBalancerSourceRanges": [cidr]})
    assert problem.startswith(f"acr-streaming-ab:loadBalancerSourceRanges[0]: {cidr} opens the front ends")


def test_narrow_ranges_of_both_families_stay_allowed():
    ranges = ["0.0.0.0/1", "::ffff:10.0.0.0/104", "2001:db8::/32"]
    assert parse_stack_config({**BASE, "loadBalancerSourceRanges": ranges}).load_balancer_source_ranges


def test_authorized_ip_ranges_are_at_most_200_and_each_once():
    many = [f"10.0.{n}.0/24" for n in range(201)]
    (problem,) = problems_for({**BASE, "cluster": {"authorizedIpRanges": many}})
    assert (
        problem
        == "acr-streaming-ab:cluster.authorizedIpRanges: 201 ranges are more than AKS accepts; allowed: at most 200"
    )
    assert parse_stack_config({**BASE, "cluster": {"authorizedIpRanges": many[:200]}})
    (problem,) = problems_for(
        {**BASE, "cluster": {"authorizedIpRanges": ["203.0.113.0/24", "10.0.0.0/08", "10.0.0.0/8"]}}
    )
    assert problem == (
        "acr-streaming-ab:cluster.authorizedIpRanges: 10.0.0.0/8 (= 10.0.0.0/08) listed more than once; "
        "allowed: each range once"
    )
