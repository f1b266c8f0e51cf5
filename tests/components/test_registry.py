"""`StreamingRegistry` under Pulumi mocks (offline/harness.py): what it declares and what waits for what.

No HTTP here: computed outputs come from offline/fakes/registry.py (login server, digests).
"""

from __future__ import annotations

import dataclasses

import pulumi
import pytest
from pulumi_azure_native import authorization, containerservice

from components.registry import StreamingRegistry, StreamingRegistryArgs
from offline.fakes.azure_base import SUBSCRIPTION, TENANT
from offline.fakes.registry import fake_digest, imported_digest
from offline.harness import evaluate
from providers.base import AzureTarget
from stackconfig.model import ImageConfig, RegistryConfig, TimeoutsConfig

REGISTRY = "azure-native:containerregistry:Registry"
RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
IMPORT = "pulumi-python:dynamic/acr:ImportedImage"
STREAMING = "pulumi-python:dynamic/acr:StreamingArtifact"
AUTO_CONVERT = "pulumi-python:dynamic/acr:RepositoryStreaming"

IMAGES = tuple(
    ImageConfig.model_validate({"name": n, "source": s, "target": t, "streaming": on})
    for n, s, t, on in (
        ("azure-vote-front", "mcr.microsoft.com/azuredocs/azure-vote-front:v1", "azure-vote-front:v1", True),
        ("redis", "mcr.microsoft.com/oss/bitnami/redis:6.0.8", "redis:6.0.8", True),
        ("alpine", "docker.io/library/alpine:3.20", "library/alpine:3.20", False),
    )
)
TIMEOUTS = TimeoutsConfig.model_validate(
    {"importMinutes": 31, "conversionMinutes": 61, "buildMinutes": 60, "poolMinutes": 45}
)


def args(existing_rg: str | None = None, auto_convert: tuple[str, ...] = (), sku: str = "Premium", images=None):
    client = authorization.get_client_config_output()
    return StreamingRegistryArgs(
        location="westeurope",
        name_prefix="streamab",
        registry=RegistryConfig.model_validate(
            {"sku": sku, "existingResourceGroup": existing_rg, "autoConvertRepositories": list(auto_convert)}
        ),
        images=IMAGES if images is None else images,
        timeouts=TIMEOUTS,
        azure=AzureTarget(client.subscription_id, client.tenant_id),
    )


def program(**kwargs):
    def run():
        registry = StreamingRegistry("registry", args(**kwargs))
        return {
            "loginServer": registry.login_server,
            "resourceGroupName": registry.resource_group_name,
            "registryName": registry.registry_name,
            "images": {name: image.summary() for name, image in registry.images.items()},
        }

    return run


def test_registry_is_premium_private_in_the_stack_region_with_a_random_suffix():
    evaluation = evaluate(program())
    [acr] = evaluation.of_type(REGISTRY)
    assert acr.inputs["sku"] == {"name": "Premium"}
    assert acr.inputs["adminUserEnabled"] is False
    assert acr.inputs["anonymousPullEnabled"] is False
    assert acr.inputs["location"] == "westeurope"
    # The fake RandomString result is "x7k2q9"; the name is the prefix plus the 6-character suffix.
    assert acr.inputs["registryName"] == "streamab" + "x7k2q9"
    [suffix] = evaluation.of_type("random:index/randomString:RandomString")
    assert suffix.inputs["length"] == 6
    assert (suffix.inputs["upper"], suffix.inputs["special"], suffix.inputs["lower"], suffix.inputs["numeric"]) == (
        False,
        False,
        True,
        True,
    )
    assert evaluation.outputs["loginServer"] == "streamabx7k2q9.azurecr.io"


def test_sku_comes_from_config():
    [acr] = evaluate(program(sku="Standard")).of_type(REGISTRY)
    assert acr.inputs["sku"] == {"name": "Standard"}


def test_resource_group_is_created_as_prefix_rg_in_the_stack_region():
    evaluation = evaluate(program())
    [group] = evaluation.of_type(RESOURCE_GROUP)
    assert group.inputs["resourceGroupName"] == "streamab-rg"
    assert group.inputs["location"] == "westeurope"
    [acr] = evaluation.of_type(REGISTRY)
    assert acr.inputs["resourceGroupName"] == "streamab-rg"
    assert evaluation.depends_on(acr, group)
    assert evaluation.outputs["resourceGroupName"] == "streamab-rg"


def test_existing_resource_group_is_looked_up_not_declared():
    evaluation = evaluate(program(existing_rg="shared-rg"))
    assert evaluation.of_type(RESOURCE_GROUP) == []
    [acr] = evaluation.of_type(REGISTRY)
    assert acr.inputs["resourceGroupName"] == "shared-rg"
    # The registry goes where the rest of the stack is, whatever region the shared group is in.
    assert acr.inputs["location"] == "westeurope"
    assert {i.inputs["resourceGroupName"] for i in evaluation.of_type(IMPORT)} == {"shared-rg"}


def test_one_import_per_image_and_one_streaming_artifact_per_streaming_image():
    evaluation = evaluate(program())
    imports = {r.inputs["target"]: r for r in evaluation.of_type(IMPORT)}
    assert set(imports) == {"azure-vote-front:v1", "redis:6.0.8", "library/alpine:3.20"}
    front = imports["azure-vote-front:v1"]
    assert front.inputs["source"] == "mcr.microsoft.com/azuredocs/azure-vote-front:v1"
    assert front.inputs["registryName"] == "streamabx7k2q9"
    assert front.inputs["loginServer"] == "streamabx7k2q9.azurecr.io"
    assert (front.inputs["subscriptionId"], front.inputs["tenantId"]) == (SUBSCRIPTION, TENANT)
    assert front.inputs["timeoutMinutes"] == 31
    artifacts = {r.inputs["repository"]: r for r in evaluation.of_type(STREAMING)}
    assert set(artifacts) == {"azure-vote-front", "redis"}  # alpine is not streaming
    assert artifacts["redis"].inputs["digest"] == imported_digest(IMAGES[1].source)
    assert artifacts["redis"].inputs["timeoutMinutes"] == 61
    assert evaluation.of_type(AUTO_CONVERT) == []


def test_streaming_artifact_waits_for_its_own_import_only():
    evaluation = evaluate(program())
    imports = {r.inputs["target"].split(":")[0]: r for r in evaluation.of_type(IMPORT)}
    for artifact in evaluation.of_type(STREAMING):
        repository = artifact.inputs["repository"]
        assert evaluation.depends_on(artifact, imports[repository])
        others = [i for repo, i in imports.items() if repo != repository]
        assert not any(evaluation.depends_on(artifact, other) for other in others)


def test_every_child_is_parented_to_the_component():
    evaluation = evaluate(program())
    [component] = evaluation.of_type("acr-streaming-ab:registry:StreamingRegistry")
    children = {r.type for r in evaluation.children(component)}
    assert {RESOURCE_GROUP, REGISTRY, IMPORT, STREAMING, "random:index/randomString:RandomString"} <= children


def test_outputs_per_image():
    images = evaluate(program()).outputs["images"]
    assert images["alpine"] == {
        "ref": "streamabx7k2q9.azurecr.io/library/alpine:3.20",
        "digest": imported_digest(IMAGES[2].source),
        "streaming": False,
        "streamingArtifactDigest": None,
    }
    front = images["azure-vote-front"]
    assert front["streaming"] is True
    assert front["streamingArtifactDigest"] == fake_digest(f"streaming:{imported_digest(IMAGES[0].source)}")


def test_published_images_are_ready_after_import_and_artifact():
    seen = {}

    def run():
        registry = StreamingRegistry("registry", args())
        seen.update(registry.images)
        return {}

    evaluate(run)
    assert [type(r).__name__ for r in seen["azure-vote-front"].ready] == ["ImportedImage", "StreamingArtifact"]
    assert [type(r).__name__ for r in seen["alpine"].ready] == ["ImportedImage"]


def test_random_suffix_is_the_same_resource_on_every_run():
    first, second = evaluate(program()), evaluate(program())
    [a], [b] = (e.of_type("random:index/randomString:RandomString") for e in (first, second))
    # Same URN and inputs: the engine keeps the suffix in state instead of drawing a new one.
    assert (a.urn, a.inputs) == (b.urn, b.inputs)
    assert first.of_type(REGISTRY)[0].inputs["registryName"] == second.of_type(REGISTRY)[0].inputs["registryName"]


def _whole_program(**values):
    from stacks import program as stack_program
    from stacks.config import parse_stack_config

    values = {"location": "westus3", **values}
    config = parse_stack_config(values)
    return evaluate(lambda: stack_program.build(config, "dev"), values)


def test_auto_conversion_waits_for_every_import_and_build_of_its_repository():
    evaluation = _whole_program(
        scenario="storage-matrix", registry={"autoConvertRepositories": ["largeimage/test", "library/alpine"]}
    )
    switches = {s.inputs["repository"]: s for s in evaluation.of_type(AUTO_CONVERT)}
    assert set(switches) == {"largeimage/test", "library/alpine"}
    assert all(s.inputs["convertPushedImages"] is True for s in switches.values())
    (build,) = evaluation.of_type("pulumi-python:dynamic/acr:AcrBuild")
    alpine = next(r for r in evaluation.of_type(IMPORT) if r.inputs["target"] == "library/alpine:3.20")
    # The built repository exists only once the build pushed to it: the switch waits for the build.
    assert evaluation.depends_on(switches["largeimage/test"], build)
    assert evaluation.depends_on(switches["library/alpine"], alpine)
    assert not evaluation.depends_on(switches["library/alpine"], build)


def test_images_of_one_source_in_one_repository_share_one_streaming_artifact():
    images = [
        {"name": "front", "source": "mcr.microsoft.com/azuredocs/azure-vote-front:v1", "target": "vote:v1"},
        {"name": "front-copy", "source": "mcr.microsoft.com/azuredocs/azure-vote-front:v1", "target": "vote:copy"},
        {"name": "front-other", "source": "mcr.microsoft.com/azuredocs/azure-vote-front:v2", "target": "vote:v2"},
    ]
    evaluation = evaluate(program(images=tuple(ImageConfig.model_validate(i) for i in images)))
    artifacts = evaluation.of_type(STREAMING)
    # Two sources, two artifacts, named by (repository, source): the copy shares the first one's.
    assert sorted(a.name for a in artifacts) == [
        "registry-streaming-vote@mcr.microsoft.com/azuredocs/azure-vote-front:v1",
        "registry-streaming-vote@mcr.microsoft.com/azuredocs/azure-vote-front:v2",
    ]
    summaries = evaluation.outputs["images"]
    assert summaries["front"]["streamingArtifactDigest"] == summaries["front-copy"]["streamingArtifactDigest"]


def test_registry_work_never_waits_for_a_cluster():
    def run():
        group = pulumi.Output.from_input("streamab-rg")
        # A cluster declared in the same program must not become a dependency of anything registry-side.
        containerservice.ManagedCluster("cluster", resource_group_name=group, dns_prefix="x")
        StreamingRegistry("registry", args())
        return {}

    evaluation = evaluate(run)
    [cluster] = evaluation.of_type("azure-native:containerservice:ManagedCluster")
    for resource in (*evaluation.of_type(REGISTRY), *evaluation.of_type(IMPORT), *evaluation.of_type(STREAMING)):
        assert not evaluation.depends_on(resource, cluster), resource.name
    [acr] = evaluation.of_type(REGISTRY)
    kinds = {evaluation.by_urn(u).type for u in evaluation.direct_dependencies(acr)}
    assert kinds <= {RESOURCE_GROUP, "random:index/randomString:RandomString"}


@pytest.mark.parametrize("image", IMAGES, ids=lambda i: i.name)
def test_import_waits_for_the_registry(image):
    evaluation = evaluate(program())
    [acr] = evaluation.of_type(REGISTRY)
    imported = next(r for r in evaluation.of_type(IMPORT) if r.inputs["target"] == image.target)
    assert evaluation.depends_on(imported, acr)


def test_the_registry_is_reachable_by_default_and_its_public_endpoint_can_be_closed():
    [acr] = evaluate(program()).of_type(REGISTRY)
    assert acr.inputs["publicNetworkAccess"] == "Enabled"
    closed = RegistryConfig.model_validate({"publicNetworkAccess": "Disabled"})

    def run():
        StreamingRegistry("registry", dataclasses.replace(args(), registry=closed))
        return {}

    [acr] = evaluate(run).of_type(REGISTRY)
    assert acr.inputs["publicNetworkAccess"] == "Disabled"
