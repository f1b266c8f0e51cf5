"""Config edits of the image list replayed against a registry with state (offline/fakes/registry.py).

Each test evaluates `StreamingRegistry` under the mocks before and after an edit, then applies the
plan the way the Pulumi engine would (match by name or alias, the provider's diff, create before
delete, deletes of what the program no longer declares last) with the real `ImportedImage` and
`StreamingArtifact` providers on a `FakeRegistry` (constructed HTTP, no recording). After each edit,
every tag and artifact the state claims must be in the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.registry import StreamingRegistry, StreamingRegistryArgs
from offline.fakes.azure_base import SUBSCRIPTION, TENANT
from offline.fakes.registry import FakeRegistry
from offline.harness import Declared, evaluate
from providers.acr_import import ExistingImageProvider, ImportedImageProvider
from providers.acr_streaming import StreamingArtifactProvider
from providers.base import AzureProvider, AzureSession, AzureTarget
from stackconfig.model import ImageConfig, RegistryConfig, TimeoutsConfig
from tests.conftest import FakeCredential

IMPORT = "pulumi-python:dynamic/acr:ImportedImage"
EXISTING = "pulumi-python:dynamic/acr:ExistingImage"
STREAMING = "pulumi-python:dynamic/acr:StreamingArtifact"
LOGIN = "streamabx7k2q9.azurecr.io"
FRONT = "mcr.microsoft.com/azuredocs/azure-vote-front:v1"
BASE = (
    {"name": "front", "source": FRONT, "target": "vote:v1"},
    {"name": "front-copy", "source": FRONT, "target": "vote:copy"},
    {"name": "redis", "source": "mcr.microsoft.com/oss/bitnami/redis:6.0.8", "target": "redis:6.0.8"},
)


@dataclass
class Stored:
    type: str
    id: str
    props: dict[str, Any]


@dataclass
class Applied:
    state: dict[str, Stored]
    steps: list[str]


def declared(images: tuple[dict[str, Any], ...]) -> list[Declared]:
    """The registry's dynamic resources for `images`, as the program registers them."""

    def run():
        from pulumi_azure_native import authorization

        client = authorization.get_client_config_output()
        StreamingRegistry(
            "registry",
            StreamingRegistryArgs(
                location="westeurope",
                name_prefix="streamab",
                registry=RegistryConfig(),
                images=tuple(ImageConfig.model_validate(i) for i in images),
                timeouts=TimeoutsConfig(),
                azure=AzureTarget(client.subscription_id, client.tenant_id),
            ),
        )
        return {}

    return [r for r in evaluate(run).resources if r.type in (IMPORT, EXISTING, STREAMING)]


def provider(type_: str, registry: FakeRegistry) -> AzureProvider:
    session = AzureSession(
        SUBSCRIPTION, TENANT, FakeCredential(), transport=registry, sleep=lambda _: None, poll_seconds=0
    )
    provider_class = {IMPORT: ImportedImageProvider, EXISTING: ExistingImageProvider}.get(
        type_, StreamingArtifactProvider
    )
    return provider_class(lambda subscription, tenant: session)


def apply(state: dict[str, Stored], resources: list[Declared], registry: FakeRegistry) -> Applied:
    """One `pulumi up`: same/update/replace/create in program order, then the deletes. A resource takes
    over the state of its own name and type or of an alias's (the new provider diffs and updates it, as
    the dynamic provider host does; a `same` keeps the old outputs, pickled provider included). An
    artifact's digest is its image's output as the registry answered it (the mocks only guess it)."""
    names = {r.urn: r.name for r in resources}
    old = dict(state)
    new: dict[str, Stored] = {}
    steps: list[str] = []
    replaced: list[Stored] = []
    for resource in resources:
        crud = provider(resource.type, registry)
        news = {k: v for k, v in resource.inputs.items() if k != "__provider"}
        if resource.type == STREAMING:
            (imported,) = resource.property_dependencies["digest"]
            news["digest"] = new[names[imported]].props["digest"]
        keys = [(resource.name, resource.type), *resource.alias_keys]
        match = next((n for n, type_ in keys if n in old and old[n].type == type_), None)
        if match is None:
            created = crud.create(news)
            new[resource.name] = Stored(resource.type, created.id, created.outs)
            steps.append(f"create {resource.name}")
            continue
        previous = old.pop(match)
        diff = crud.diff(previous.id, previous.props, news)
        if diff.replaces:
            created = crud.create(news)
            new[resource.name] = Stored(resource.type, created.id, created.outs)
            replaced.append(previous)
            steps.append(f"replace {resource.name}")
        elif diff.changes:
            updated = crud.update(previous.id, previous.props, news)
            new[resource.name] = Stored(resource.type, previous.id, updated.outs or previous.props)
            steps.append(f"update {resource.name}")
        else:
            new[resource.name] = previous
    for name, gone in reversed(list(old.items())):
        provider(gone.type, registry).delete(gone.id, gone.props)
        steps.append(f"delete {name}")
    for gone in replaced:
        provider(gone.type, registry).delete(gone.id, gone.props)
    return Applied(new, steps)


def lost(state: dict[str, Stored], registry: FakeRegistry) -> list[str]:
    """What the state claims exists but the registry no longer has."""
    missing = []
    for name, stored in state.items():
        props = stored.props
        if stored.type in (IMPORT, EXISTING):
            repository, tag = props["target"].rsplit(":", 1)
            if registry.tags.get((repository, tag)) != props["digest"]:
                missing.append(f"{name}: tag {props['target']}")
        elif registry.streaming_artifact(props["repository"], props["digest"]) != props["streamingArtifactDigest"]:
            missing.append(f"{name}: artifact of {props['repository']}@{props['digest']}")
    return missing


def deployed(registry: FakeRegistry | None = None) -> tuple[dict[str, Stored], FakeRegistry]:
    registry = registry or FakeRegistry(LOGIN)
    first = apply({}, declared(BASE), registry)
    assert sorted(s.type for s in first.state.values()) == [IMPORT] * 3 + [STREAMING] * 2
    return first.state, registry


def test_renaming_and_reordering_images_change_nothing_in_the_registry():
    state, registry = deployed()
    renamed = ({**BASE[1], "name": "copy"}, {**BASE[2], "name": "cache"}, {**BASE[0], "name": "web"})
    before = (dict(registry.tags), dict(registry.artifacts))
    applied = apply(state, declared(renamed), registry)
    assert lost(applied.state, registry) == []
    assert applied.steps == []
    assert (registry.tags, registry.artifacts) == before


def test_dropping_an_image_keeps_the_artifact_its_source_still_needs_and_re_adding_it_restores_it():
    state, registry = deployed()
    dropped = apply(state, declared((BASE[0], BASE[2])), registry)
    # vote:copy was the artifact's digest source (first target in sorted order); the artifact stays.
    assert dropped.steps == ["delete registry-import-vote:copy"]
    assert ("vote", "copy") not in registry.tags
    assert lost(dropped.state, registry) == []
    vote_digest = registry.tags[("vote", "v1")]
    dropped_first = apply(dropped.state, declared((BASE[2],)), registry)
    assert lost(dropped_first.state, registry) == []
    assert ("vote", "v1") not in registry.tags
    # The artifact stays with its (now untagged) image, like the manifest, and goes with the registry.
    assert registry.streaming_artifact("vote", vote_digest) is not None
    re_added = apply(dropped_first.state, declared(BASE), registry)
    assert sorted(re_added.steps) == [
        "create registry-import-vote:copy",
        "create registry-import-vote:v1",
        f"create registry-streaming-vote@{FRONT}",
    ]
    assert lost(re_added.state, registry) == []


def test_a_stack_deployed_with_config_named_resources_moves_to_the_new_names_without_a_step():
    state, registry = deployed()
    old_names = {
        "registry-import-vote:v1": "registry-import-front",
        "registry-import-vote:copy": "registry-import-front-copy",
        "registry-import-redis:6.0.8": "registry-import-redis",
        f"registry-streaming-vote@{FRONT}": "registry-streaming-front",
        "registry-streaming-redis@mcr.microsoft.com/oss/bitnami/redis:6.0.8": "registry-streaming-redis",
    }
    assert set(state) == set(old_names)
    legacy = {old_names[name]: stored for name, stored in state.items()}
    applied = apply(legacy, declared(BASE), registry)
    assert applied.steps == []
    assert set(applied.state) == set(old_names)


def test_moving_a_source_to_a_mirror_of_the_same_image_keeps_its_artifact():
    """The new source is another artifact resource (named by source) that finds the artifact existing;
    the old resource's delete must not take it away from it."""
    mirror = "docker.io/bitnami/redis:6.0.8"
    state, registry = deployed(FakeRegistry(LOGIN, same_image={mirror: "mcr.microsoft.com/oss/bitnami/redis:6.0.8"}))
    moved = apply(state, declared((BASE[0], BASE[1], {**BASE[2], "source": mirror})), registry)
    assert lost(moved.state, registry) == []
    assert sorted(moved.steps) == [
        "create registry-streaming-redis@docker.io/bitnami/redis:6.0.8",
        "delete registry-streaming-redis@mcr.microsoft.com/oss/bitnami/redis:6.0.8",
        "update registry-import-redis:6.0.8",
    ]


def existing(image: dict[str, Any]) -> dict[str, Any]:
    return {"name": image["name"], "target": image["target"], "existing": True}


def test_an_imported_image_switched_to_existing_stays_tagged_and_streams():
    """`source` -> `existing: true` on one target: the import becomes the existing image in place (an
    alias across types, then the existing image's provider updates it), so no import delete untags it."""
    state, registry = deployed()
    redis_digest = registry.tags[("redis", "6.0.8")]
    switched = apply(state, declared((BASE[0], BASE[1], existing(BASE[2]))), registry)
    assert lost(switched.state, registry) == []
    assert registry.tags[("redis", "6.0.8")] == redis_digest
    assert "update registry-existing-redis:6.0.8" in switched.steps
    assert not [step for step in switched.steps if step.startswith("delete registry-import")]
    # And back: the import writes the tag again (Force) and the existing image's delete leaves it.
    back = apply(switched.state, declared(BASE), registry)
    assert lost(back.state, registry) == [] and registry.tags[("redis", "6.0.8")] == redis_digest


def test_switching_every_image_of_a_shared_source_to_existing_keeps_tags_and_artifacts():
    state, registry = deployed()
    before = dict(registry.tags)
    switched = apply(state, declared((existing(BASE[0]), existing(BASE[1]), BASE[2])), registry)
    assert lost(switched.state, registry) == [] and registry.tags == before
    back = apply(switched.state, declared(BASE), registry)
    assert lost(back.state, registry) == [] and registry.tags == before


def test_the_alias_names_the_type_the_engine_gives_imports():
    from components.registry import IMPORTED_IMAGE_TYPE

    (imported, *_) = [r for r in declared(BASE) if r.type == IMPORT]
    assert imported.type == IMPORTED_IMAGE_TYPE
    (existing_image,) = declared((existing(BASE[0]),))[:1]
    assert existing_image.alias_keys == [
        ("registry-import-vote:v1", IMPORTED_IMAGE_TYPE),
        ("registry-import-front", IMPORTED_IMAGE_TYPE),
    ]


def test_a_config_named_import_switched_to_existing_stays_tagged():
    state, registry = deployed()
    legacy = {name.replace("registry-import-redis:6.0.8", "registry-import-redis"): s for name, s in state.items()}
    switched = apply(legacy, declared((BASE[0], BASE[1], existing(BASE[2]))), registry)
    assert lost(switched.state, registry) == [] and ("redis", "6.0.8") in registry.tags
