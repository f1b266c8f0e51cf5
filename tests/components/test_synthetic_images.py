"""`SyntheticImages` under Pulumi mocks: one AcrBuild (+ StreamingArtifact) per synthetic image.

Imported images are faked as `PublishedImage`s whose digest comes from a dummy import resource, so
"the build waits for the import of its base image" is visible as a dependency. AcrBuild's computed
outputs come from offline/fakes/workloads.py.
"""

from __future__ import annotations

import copy
from typing import Any

import pulumi
import pytest

from components import dockerfiles
from components.images import PublishedImage
from components.synthetic_images import TYPE, SyntheticImages, SyntheticImagesArgs
from offline.fakes.azure_base import SUBSCRIPTION, TENANT
from offline.fakes.workloads import ACR_BUILD_TYPE, BUILD_RUN_ID, fake_digest
from offline.harness import Declared, Evaluation, evaluate
from providers.base import AzureTarget
from stackconfig.errors import ConfigError
from stackconfig.model import StackConfig
from stacks import scenarios
from stacks.config import parse_stack_config

LOGIN = "streamabx7k2q9.azurecr.io"
STREAMING_TYPE = "pulumi-python:dynamic/acr:StreamingArtifact"
IMPORT = "test:index:Import"


class _Import(pulumi.CustomResource):
    def __init__(self, name: str):
        super().__init__(IMPORT, name, {})


def imported_image(name: str, repository: str, tag: str, streaming: bool) -> PublishedImage:
    resource = _Import(f"import-{name}")
    # Derived from the resource's id, so using the digest means waiting for the import.
    digest = resource.id.apply(lambda _: fake_digest(f"imported-{name}"))
    return PublishedImage(
        name=name,
        repository=repository,
        tag=tag,
        streaming=streaming,
        ref=pulumi.Output.from_input(f"{LOGIN}/{repository}:{tag}"),
        digest=digest,
        streaming_artifact_digest=pulumi.Output.from_input(None),
        ready=[resource],
    )


def compose(values: dict[str, Any]) -> tuple[StackConfig, Evaluation]:
    config = parse_stack_config({"location": "westus3", **values})

    def program():
        imported = {i.name: imported_image(i.name, i.repository, i.tag, i.streaming) for i in config.images}
        component = SyntheticImages(
            "synthetic-images",
            SyntheticImagesArgs(
                images=config.synthetic_images,
                imported=imported,
                resource_group_name="streamab-rg",
                registry_name="streamabx7k2q9",
                login_server=LOGIN,
                timeouts=config.timeouts,
                azure=AzureTarget(SUBSCRIPTION, TENANT),
            ),
        )
        return {
            "images": pulumi.Output.all(**{n: i.summary() for n, i in component.images.items()}),
            "ready": pulumi.Output.all(
                **{n: pulumi.Output.all(*[r.urn for r in i.ready]) for n, i in component.images.items()}
            ),
        }

    return config, evaluate(program)


def builds(evaluation: Evaluation) -> dict[str, Declared]:
    return {b.inputs["target"]: b for b in evaluation.of_type(ACR_BUILD_TYPE)}


def artifacts(evaluation: Evaluation) -> dict[str, Declared]:
    return {a.inputs["repository"]: a for a in evaluation.of_type(STREAMING_TYPE)}


def imported_digest(name: str) -> str:
    return fake_digest(f"imported-{name}")


def test_storage_matrix_builds_the_blog_image_from_the_registry_alpine():
    config, evaluation = compose({"scenario": "storage-matrix"})
    (build,) = evaluation.of_type(ACR_BUILD_TYPE)
    base = f"{LOGIN}/library/alpine:3.20@{imported_digest('alpine')}"
    tools = f"{LOGIN}/library/busybox:1.37@{imported_digest('busybox')}"
    assert build.inputs["dockerfile"] == dockerfiles.filled_dockerfile(base, 5000, 1, "zero", tools, 5000)
    assert build.inputs["target"] == "largeimage/test:v1"
    assert build.inputs.get("squashSource") is None  # None inputs are not sent to the engine
    assert build.inputs["timeoutMinutes"] == config.timeouts.build_minutes
    assert {
        k: build.inputs[k] for k in ("subscriptionId", "tenantId", "resourceGroupName", "registryName", "loginServer")
    } == {
        "subscriptionId": SUBSCRIPTION,
        "tenantId": TENANT,
        "resourceGroupName": "streamab-rg",
        "registryName": "streamabx7k2q9",
        "loginServer": LOGIN,
    }
    imports = {i.name: i for i in evaluation.of_type(IMPORT)}
    assert set(imports) == {"import-alpine", "import-busybox", "import-hello-world"}
    assert all(evaluation.depends_on(build, imports[f"import-{i}"]) for i in ("alpine", "busybox"))  # base, tools
    assert not evaluation.depends_on(build, imports["import-hello-world"])  # the pull check's, nothing of a build

    artifact = artifacts(evaluation)["largeimage/test"]
    assert evaluation.depends_on(artifact, build)
    built_digest = fake_digest(f"largeimage/test:v1\n{build.inputs['dockerfile']}")
    assert artifact.inputs["digest"] == built_digest
    assert artifact.inputs["timeoutMinutes"] == config.timeouts.conversion_minutes
    assert artifact.inputs["loginServer"] == LOGIN

    summary = evaluation.outputs["images"]["largeimage"]
    assert summary["ref"] == f"{LOGIN}/largeimage/test:v1" and summary["digest"] == built_digest
    assert summary["streaming"] is True
    assert evaluation.outputs["ready"]["largeimage"] == [build.urn, artifact.urn]


def test_layers_grid_builds_random_images_with_their_layer_counts():
    config, evaluation = compose({"scenario": "layers"})
    by_target = builds(evaluation)
    assert len(by_target) == len(scenarios.LAYER_GRID_SIZES_MB) * len(scenarios.LAYER_GRID_LAYERS)
    for image in config.synthetic_images:
        text = by_target[image.target].inputs["dockerfile"]
        runs = [line for line in text.splitlines() if line.startswith("RUN dd ")]
        assert len(runs) == image.layers
        assert all("if=/dev/urandom" in line for line in runs)
        assert sum(int(line.rsplit("count=", 1)[1]) for line in runs) == image.size_mb
    assert set(artifacts(evaluation)) == {i.repository for i in config.synthetic_images}


def test_teleport_squash_build_names_its_source_by_digest():
    _, evaluation = compose({"scenario": "teleport-ab"})
    build = builds(evaluation)["azure-vote-front:squashed"]
    source_ref = f"{LOGIN}/azure-vote-front:v1@{imported_digest('azure-vote-front')}"
    assert build.inputs["dockerfile"] == dockerfiles.squash_dockerfile_head(source_ref)
    assert build.inputs["squashSource"] == {
        "repository": "azure-vote-front",
        "digest": imported_digest("azure-vote-front"),
    }
    imports = {r.name: r for r in evaluation.of_type(IMPORT)}
    assert evaluation.depends_on(build, imports["import-azure-vote-front"])
    assert not evaluation.depends_on(build, imports["import-redis"])
    assert evaluation.outputs["images"]["azure-vote-front-squashed"]["ref"] == f"{LOGIN}/azure-vote-front:squashed"


def test_full_reference_base_and_no_streaming():
    values = {
        "scenario": "storage-matrix",
        "syntheticImages": [
            {
                "name": "plain",
                "target": "plain/test:v1",
                "sizeMb": 100,
                "layers": 4,
                "fill": "random",
                "baseImage": "mcr.microsoft.com/azurelinux/base/core:3.0",
                "toolsImage": "docker.io/library/busybox:1.37",
                "streaming": False,
            }
        ],
        "workloads": [
            {
                "name": "plain",
                "template": "single",
                "image": "plain",
                "arms": [{"pool": "fastart"}, {"pool": "fastnoart"}],
            }
        ],
        "activeWorkloads": ["plain"],
    }
    _, evaluation = compose(values)
    (build,) = evaluation.of_type(ACR_BUILD_TYPE)
    froms = [line for line in build.inputs["dockerfile"].splitlines() if line.startswith("FROM ")]
    assert froms == ["FROM docker.io/library/busybox:1.37 AS tools", "FROM mcr.microsoft.com/azurelinux/base/core:3.0"]
    assert not any(evaluation.depends_on(build, i) for i in evaluation.of_type(IMPORT))
    assert evaluation.of_type(STREAMING_TYPE) == []
    assert evaluation.outputs["images"]["plain"]["streamingArtifactDigest"] is None
    assert evaluation.outputs["ready"]["plain"] == [build.urn]


def test_component_type_and_parents():
    _, evaluation = compose({"scenario": "teleport-ab"})
    (component,) = [r for r in evaluation.resources if r.type == TYPE]
    children = evaluation.children(component)
    assert {c.type for c in children} == {ACR_BUILD_TYPE, STREAMING_TYPE}
    for resource in evaluation.of_type(ACR_BUILD_TYPE) + evaluation.of_type(STREAMING_TYPE):
        assert resource.parent == component.urn


def test_build_outputs_come_from_the_fake_run():
    _, evaluation = compose({"scenario": "storage-matrix"})
    (build,) = evaluation.of_type(ACR_BUILD_TYPE)
    assert build.state["runId"] == BUILD_RUN_ID
    assert build.state["ref"] == f"{LOGIN}/largeimage/test:v1"


def test_a_named_base_the_composition_did_not_pass_is_refused():
    config = parse_stack_config({"location": "westus3", "scenario": "storage-matrix"})

    def program():
        SyntheticImages(
            "synthetic-images",
            SyntheticImagesArgs(
                images=config.synthetic_images,
                imported={},
                resource_group_name="rg",
                registry_name="r",
                login_server=LOGIN,
                timeouts=config.timeouts,
                azure=AzureTarget(SUBSCRIPTION, TENANT),
            ),
        )

    with pytest.raises(Exception, match="'alpine' is neither an imported image"):
        evaluate(program)


# --- bad configuration, through stacks.config.parse_stack_config ---------------------------------
def problems(synthetic: dict[str, Any]) -> list[str]:
    values = {"location": "westus3", "scenario": "storage-matrix"}
    images = copy.deepcopy(scenarios.SCENARIOS["storage-matrix"]["syntheticImages"])
    images[0] = {**images[0], **synthetic}
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({**values, "syntheticImages": images})
    return raised.value.problems


def has_key(found: list[str], key: str) -> bool:
    return any(p.startswith(f"acr-streaming-ab:{key}: ") for p in found)


@pytest.mark.parametrize(
    "synthetic, key",
    [
        ({"layers": 0}, "syntheticImages[0].layers"),
        ({"layers": 121}, "syntheticImages[0].layers"),
        ({"sizeMb": 0}, "syntheticImages[0].sizeMb"),
        ({"sizeMb": 20_001}, "syntheticImages[0].sizeMb"),
        ({"sizeMb": 5, "layers": 8}, "syntheticImages[0].sizeMb"),
        ({"baseImage": "ubuntu"}, "syntheticImages[0].baseImage"),
        ({"squashOf": "largeimage"}, "syntheticImages[0].squashOf"),
        ({"squashOf": "alpine"}, "syntheticImages[0]"),
        ({"fill": "ones"}, "syntheticImages[0].fill"),
    ],
)
def test_bad_synthetic_image_config_names_the_key(synthetic, key):
    found = problems(synthetic)
    assert has_key(found, key), found


# --- through the whole program (stacks.program.build) --------------------------------------------
IMPORTED = "pulumi-python:dynamic/acr:ImportedImage"
CLUSTER = "azure-native:containerservice:ManagedCluster"


@pytest.mark.parametrize("scenario", sorted(scenarios.SCENARIOS))
def test_program_builds_every_synthetic_image_from_the_registry_copy(scenario):
    from stacks import program

    values = {"location": "westus3", "scenario": scenario}
    config = parse_stack_config(values)
    evaluation = evaluate(lambda: program.build(config, "dev"), values)
    login = evaluation.outputs["registryLoginServer"]
    imports = {r.inputs["target"]: r for r in evaluation.of_type(IMPORTED)}
    by_target = builds(evaluation)
    assert set(by_target) == {i.target for i in config.synthetic_images}
    clusters = evaluation.of_type(CLUSTER)
    assert len(clusters) == (0 if config.is_registry_stack else 1)  # a registry stack has none
    for image in config.synthetic_images:
        build = by_target[image.target]
        source_name = image.squash_of or image.base_image
        source = next(i for i in config.images if i.name == source_name)
        source_import = imports[source.target]
        pinned = f"{login}/{source.target}@{source_import.state['digest']}"
        if image.squash_of:
            assert build.inputs["dockerfile"] == dockerfiles.squash_dockerfile_head(pinned)
        else:
            froms = [line for line in build.inputs["dockerfile"].splitlines() if line.startswith("FROM ")]
            assert froms[-1] == f"FROM {pinned}"
            tools = imports[next(i for i in config.images if i.name == image.tools_image).target]
            assert froms[0] == f"FROM {login}/library/busybox:1.37@{tools.state['digest']} AS tools"
        assert evaluation.depends_on(build, source_import)
        # Registry work never waits for the cluster (docs/ARCHITECTURE.md).
        for cluster in clusters:
            assert not evaluation.depends_on(build, cluster) and not evaluation.depends_on(cluster, build)
        summary = evaluation.outputs["images"][image.name]
        assert summary["digest"] == build.state["digest"] and summary["ref"] == f"{login}/{image.target}"
        assert (summary["streamingArtifactDigest"] is not None) == image.streaming


def two_images(first: str, second: str) -> dict[str, Any]:
    image = {"sizeMb": 100, "layers": 4, "baseImage": "mcr.microsoft.com/azurelinux/base/core:3.0"}
    workload = {"template": "single", "arms": [{"pool": "fastart"}, {"pool": "fastnoart"}]}
    return {
        "scenario": "storage-matrix",
        "syntheticImages": [
            {**image, "name": first, "target": "plain/test:v1", "toolsImage": "docker.io/library/busybox:1.37"},
            {**image, "name": second, "target": "plain/test:v2", "toolsImage": "docker.io/library/busybox:1.37"},
        ],
        "workloads": [{**workload, "name": "one", "image": first}, {**workload, "name": "two", "image": second}],
        "activeWorkloads": ["one", "two"],
    }


def planned(before: dict[tuple[str, str], dict[str, Any]], after: list[Declared]) -> list[str]:
    """The engine's steps for the builds and artifacts: a resource takes over the state of its own
    (name, type) or of an alias's; what no resource takes is deleted; changed inputs update."""
    old = dict(before)
    steps = []
    for resource in after:
        if resource.type not in (ACR_BUILD_TYPE, STREAMING_TYPE):
            continue
        keys = [(resource.name, resource.type), *resource.alias_keys]
        match = next((key for key in keys if key in old), None)
        if match is None:
            steps.append(f"create {resource.name}")
        elif old.pop(match) != resource.inputs:
            steps.append(f"update {resource.name}")
    return steps + [f"delete {name}" for name, _ in old]


def state_of(evaluation: Evaluation) -> dict[tuple[str, str], dict[str, Any]]:
    kinds = (ACR_BUILD_TYPE, STREAMING_TYPE)
    return {(r.name, r.type): r.inputs for r in evaluation.resources if r.type in kinds}


def test_renaming_or_swapping_synthetic_images_plans_no_step():
    _, before = compose(two_images("first", "second"))
    assert {name for name, _ in state_of(before)} == {
        "synthetic-images-plain/test:v1",
        "synthetic-images-plain/test:v1-streaming",
        "synthetic-images-plain/test:v2",
        "synthetic-images-plain/test:v2-streaming",
    }
    for first, second in (("renamed", "second"), ("second", "first")):
        _, after = compose(two_images(first, second))
        assert planned(state_of(before), after.resources) == [], (first, second)


def test_a_stack_with_config_named_synthetic_images_moves_to_target_names_without_a_step():
    _, now = compose(two_images("first", "second"))
    legacy = {
        (name.replace("plain/test:v1", "first").replace("plain/test:v2", "second"), type_): inputs
        for (name, type_), inputs in state_of(now).items()
    }
    assert ("synthetic-images-first-streaming", STREAMING_TYPE) in legacy
    assert planned(legacy, now.resources) == []
