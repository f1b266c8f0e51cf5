"""`image_traits`: the one rule for what a configured image needs of its pods."""

from __future__ import annotations

from components import pod_security
from components.dockerfiles import APP_PORT
from components.images import ImageTraits, image_traits
from stackconfig.model import ImageConfig, SyntheticImageConfig

VOTE_SOURCE = "mcr.microsoft.com/azuredocs/azure-vote-front:v1"
VOTE = ImageConfig.model_validate({"name": "azure-vote-front", "source": VOTE_SOURCE, "target": "azure-vote-front:v1"})


def test_an_imported_image_is_confined_by_its_source():
    assert image_traits(VOTE, {}) == ImageTraits(security_profile=pod_security.VOTE_FRONT)
    unknown = ImageConfig.model_validate({"source": "docker.io/library/nginx:1.27", "target": "nginx:1.27"})
    assert image_traits(unknown, {}) == ImageTraits(security_profile=pod_security.UNKNOWN)


def test_a_squashed_copy_is_confined_as_its_source_and_has_no_app_port():
    squashed = SyntheticImageConfig.model_validate(
        {"target": "azure-vote-front:squashed", "squashOf": "azure-vote-front"}
    )
    assert image_traits(squashed, {VOTE.name: VOTE.source}) == ImageTraits(security_profile=pod_security.VOTE_FRONT)
    # A source this stack does not know keeps the runtime's defaults, as any unknown image does.
    assert image_traits(squashed, {}) == ImageTraits(security_profile=pod_security.UNKNOWN)


def test_a_filled_image_runs_as_the_project_user_on_its_app_port_after_its_read():
    filled = SyntheticImageConfig.model_validate(
        {"target": "largeimage/test:v1", "sizeMb": 100, "layers": 2, "startupReadMb": 40}
    )
    assert image_traits(filled, {}) == ImageTraits(
        security_profile=pod_security.OWN, app_port=APP_PORT, startup_read_mb=40
    )


def test_a_custom_container_is_confined_like_the_projects_images_unless_it_widens():
    from stackconfig.model import ContainerConfig

    def traits(**container):
        return image_traits(None, {}, ContainerConfig.model_validate({"port": 9000, **container}))

    assert traits() == ImageTraits(security_profile=pod_security.OWN, app_port=9000)
    assert traits(confinement="non-root").security_profile == pod_security.NON_ROOT
    assert traits(confinement="runtime-default").security_profile == pod_security.UNKNOWN
    # Your own image without a custom container: unknown to the project, so the runtime's defaults.
    existing = ImageConfig.model_validate({"target": "myapp:1", "existing": True})
    assert image_traits(existing, {}) == ImageTraits(security_profile=pod_security.UNKNOWN)
