"""`ImportedImage` provider replayed against the Azure CLI's import recordings.

Recordings (tests/fixtures/azure-http/): `test_acr_artifact_streaming.yaml` (#6-#8: importImage 202,
operationResults 202 Accepted, 200 Succeeded; #29-#32: data-plane auth and the tag's digest),
`test_acr_image_import.yaml` (eight importImage variants, each 202 + one operationResults poll),
`test_acr_import_no_wait.yaml` (#6: importImage answered 202 with a `location`, never polled by the CLI).
The replay matches method and URL, so the request bodies this provider sends (registryUri sources,
`mode: Force`) are asserted separately. Data-plane calls for registries no recording reads are
constructed.
"""

from __future__ import annotations

import hashlib

import pytest

from offline.clock import FakeClock
from providers.acr_import import ExistingImageMissingError, ImportedImageProvider, ImportFailedError, import_source
from providers.errors import WaitTimeoutError
from tests.conftest import constructed_auth, recorded_once
from tests.providers.scenarios.acr_import import (
    DIGEST,
    STREAMING,
    existing_props,
    existing_provider_for,
    existing_tag_read,
    props,
    provider_for,
    tag,
)
from tests.replay import SUBSCRIPTION, constructed

IMPORTS = "test_acr_image_import.yaml"
NO_WAIT = "test_acr_import_no_wait.yaml"
ARM = f"https://management.azure.com/subscriptions/{SUBSCRIPTION}"


def import_url(registry: str = "clireg000002", resource_group: str = "clitest.rg000001") -> str:
    return (
        f"{ARM}/resourceGroups/{resource_group}/providers/Microsoft.ContainerRegistry/registries/{registry}/"
        "importImage?api-version=2025-11-01"
    )


def test_import_waits_for_the_operation_then_reads_the_digest():
    """Recorded: artifact_streaming#6 (POST importImage 202), #7 (operationResults 202 Accepted), #8 (200
    Succeeded), #29 (GET /v2/ 401), #30 (exchange), #31 (token, metadata_read), #32 (tag -> digest)."""
    provider, transport = provider_for(recorded_once(STREAMING, [6, 7, 8, 29, 30, 31, 32]))
    result = provider.create(props())
    assert result.outs["digest"] == DIGEST
    assert result.outs["ref"] == result.id == "clireg000002.azurecr.io/microsoft:azure-cli"
    assert "__provider" not in result.outs and result.outs["source"] == "mcr.microsoft.com/azure-cli:2.0"
    post = transport.sent[0]
    assert post.body == {
        "source": {"registryUri": "mcr.microsoft.com", "sourceImage": "azure-cli:2.0"},
        "targetTags": ["microsoft:azure-cli"],
        "mode": "Force",
    }
    assert [r.answered_by for r in transport.sent] == [f"{STREAMING}#{i}" for i in (6, 7, 8, 29, 30, 31, 32)]


# (POST, poll) pairs of test_acr_image_import.yaml that import into targetregistry000003 with one tag.
VARIANTS = {
    "same-subscription": (14, 15),
    "same-registry": (29, 30),
    "by-digest": (34, 35),
    "docker-hub-registryUri": (39, 40),
    "credentials": (43, 44),
    "credentials-password-only": (47, 48),
}


@pytest.mark.parametrize("post,poll", VARIANTS.values(), ids=VARIANTS.keys())
def test_image_import_recorded_variants_poll_to_success(post, poll):
    """Recorded: image_import#<post> (POST importImage 202 + location) and #<poll> (operationResults 200
    Succeeded). Constructed: data-plane auth and tag of targetregistry000003 (not in the recording)."""
    login = "targetregistry000003.azurecr.io"
    provider, transport = provider_for(
        [
            *recorded_once(IMPORTS, [post, poll]),
            *constructed_auth(login),
            tag(login, "library/hello-world", "latest", DIGEST),
        ]
    )
    result = provider.create(
        props(
            "targetregistry000003", source="docker.io/library/hello-world:latest", target="library/hello-world:latest"
        )
    )
    assert result.outs["digest"] == DIGEST
    assert transport.sent[0].body["source"] == {"registryUri": "docker.io", "sourceImage": "library/hello-world:latest"}
    assert transport.unused() == []


def test_no_wait_recording_202_alone_is_not_success():
    """Recorded: import_no_wait#6 only (202 + location; the CLI's --no-wait stopped there). The provider
    goes on to poll the location, which nothing answers: the replay fails the create instead of the
    provider taking the 202 for success."""
    provider, transport = provider_for(recorded_once(NO_WAIT, [6]))
    with pytest.raises(
        AssertionError,
        match=r"no recorded or constructed interaction answers GET .*"
        r"/locations/WESTUS/operationResults/registries-939a0fb2",
    ):
        provider.create(props("sourceregistrysamesub000002", "resourcegroupsamesub"))
    assert transport.sent[0].answered_by == f"{NO_WAIT}#6"


def test_no_wait_recording_then_polled_to_success():
    """Recorded: import_no_wait#6 (202 + location). Constructed: the location polled (202, then 200
    Succeeded, as image_import#7 shows) and the data-plane tag read."""
    login = "sourceregistrysamesub000002.azurecr.io"
    location = (
        f"{ARM}/providers/Microsoft.ContainerRegistry/locations/WESTUS/operationResults/"
        "registries-939a0fb2-ffc3-11eb-a810-00155d392c20?api-version=2021-06-01-preview"
    )
    provider, transport = provider_for(
        [
            *recorded_once(NO_WAIT, [6]),
            constructed("GET", location, 202, {"status": "Accepted"}, {"location": location}),
            constructed("GET", location, 200, {"status": "Succeeded"}),
            *constructed_auth(login),
            tag(login, "microsoft", "azure-cli", DIGEST),
        ]
    )
    result = provider.create(props("sourceregistrysamesub000002", "resourcegroupsamesub"))
    assert result.outs["digest"] == DIGEST
    assert transport.unused() == []


def test_failed_operation_fails_with_arms_error():
    """Recorded: artifact_streaming#6, #7. Constructed: operationResults 200 with status Failed."""
    location_body = {
        "status": "Failed",
        "error": {"code": "InvalidImage", "message": "The source image azure-cli:2.0 does not exist"},
    }
    poll = recorded_once(STREAMING, [8])[0]
    poll.response_body = location_body
    poll.origin = "constructed (the URL of artifact_streaming#8)"
    provider, _ = provider_for([*recorded_once(STREAMING, [6, 7]), poll])
    with pytest.raises(
        ImportFailedError,
        match=r"importing mcr.microsoft.com/azure-cli:2.0 into clireg000002 as "
        r"microsoft:azure-cli ended Failed: InvalidImage: The source image",
    ):
        provider.create(props())


def test_operation_answering_an_error_status_fails_with_its_body():
    """Recorded: artifact_streaming#6, #7. Constructed: operationResults 404 with an ARM error body."""
    poll = recorded_once(STREAMING, [8])[0]
    poll.status = 404
    poll.response_body = {"error": {"code": "ResourceNotFound", "message": "registry clireg000002 was deleted"}}
    provider, _ = provider_for([*recorded_once(STREAMING, [6, 7]), poll])
    with pytest.raises(ImportFailedError, match="failed: ResourceNotFound: registry clireg000002 was deleted"):
        provider.create(props())


def test_refused_import_fails_with_arms_message():
    """Constructed: POST importImage 400 InvalidParameters (same URL as artifact_streaming#6)."""
    provider, _ = provider_for(
        [
            constructed(
                "POST",
                import_url(),
                400,
                {"error": {"code": "InvalidParameters", "message": "sourceImage must not be empty"}},
            ),
        ]
    )
    with pytest.raises(ImportFailedError, match="InvalidParameters.*sourceImage must not be empty"):
        provider.create(props())


def test_import_timeout_with_a_fake_clock():
    """Recorded: artifact_streaming#6 (202), #7 (202 Accepted). Constructed: two more 202 Accepted polls.
    Fake clock: 60 s between polls, a 2-minute limit."""
    clock = FakeClock()
    accepted = recorded_once(STREAMING, [7])[0]
    more = [recorded_once(STREAMING, [7])[0] for _ in range(2)]
    for extra in more:
        extra.origin = "constructed (a copy of artifact_streaming#7)"
    provider, _ = provider_for([*recorded_once(STREAMING, [6]), accepted, *more], clock=clock, poll_seconds=60)
    with pytest.raises(WaitTimeoutError) as raised:
        provider.create(props(timeoutMinutes=2))
    message = str(raised.value)
    assert "importing mcr.microsoft.com/azure-cli:2.0 into clireg000002 as microsoft:azure-cli" in message
    assert "ARM operation status InProgress" in message and "acr-streaming-ab:timeouts.importMinutes" in message
    assert clock.t == 120


def test_throttled_import_post_waits_out_retry_after():
    """Recorded: artifact_streaming#6-#8, #29-#32. Constructed: POST importImage 429 Retry-After: 3 first."""
    provider, transport = provider_for(
        [
            constructed(
                "POST",
                import_url(),
                429,
                {"error": {"code": "TooManyRequests", "message": "throttled"}},
                {"Retry-After": "3"},
            ),
            *recorded_once(STREAMING, [6, 7, 8, 29, 30, 31, 32]),
        ]
    )
    assert provider.create(props()).outs["digest"] == DIGEST
    assert transport.sleeps[0] == 3
    assert transport.unused() == []


def test_read_follows_the_tag_and_notices_it_gone():
    """Recorded: artifact_streaming#29-#32 (tag exists). Constructed: auth and 404 TAG_UNKNOWN."""
    provider, _ = provider_for(
        [
            *recorded_once(STREAMING, [29, 30, 31, 32]),
            *constructed_auth("clireg000002.azurecr.io"),
            tag("clireg000002.azurecr.io", "microsoft", "azure-cli", "", status=404),
        ]
    )
    current = provider.read("id", {**props(), "digest": "sha256:" + "0" * 64})
    assert current.id == "id" and current.outs["digest"] == DIGEST  # the tag moved since: refresh shows it
    gone = provider.read("id", {**props(), "digest": DIGEST})
    assert gone.id is None and gone.outs == {}


def test_diff_replaces_on_what_identifies_the_image():
    """No HTTP."""
    provider = ImportedImageProvider()
    olds = {**props(), "digest": DIGEST, "ref": "x"}
    unchanged = provider.diff("id", olds, {**props(), "__provider": "other", "timeoutMinutes": 300})
    assert unchanged.changes is False and unchanged.replaces == []
    new_source = provider.diff("id", olds, props(source="mcr.microsoft.com/azure-cli:2.1"))
    # A new source re-imports into the same tag in place: never untag first.
    assert new_source.changes is True and new_source.replaces == [] and not new_source.delete_before_replace
    new_target = provider.diff("id", olds, props(target="microsoft:other"))
    assert new_target.replaces == ["target"] and new_target.delete_before_replace is False
    tenant = provider.diff("id", olds, props(tenantId="33333333-3333-3333-3333-333333333333"))
    assert tenant.changes is True and tenant.replaces == []


def test_update_calls_nothing():
    """No HTTP: an empty replay would fail any request."""
    provider, transport = provider_for([])
    outs = provider.update("id", {**props(), "digest": DIGEST, "ref": "r"}, props(tenantId="t2")).outs
    assert (outs["digest"], outs["ref"], outs["tenantId"]) == (DIGEST, "r", "t2")
    assert transport.sent == []


def test_a_new_source_reimports_in_place_and_never_untags():
    """Recorded: artifact_streaming#6-#8 (importImage, polled to success), #29-#32 (auth, the tag's
    digest): the update is the same Force import as a create. No DELETE is sent at any point."""
    provider, transport = provider_for(recorded_once(STREAMING, [6, 7, 8, 29, 30, 31, 32]))
    olds = {**props(source="mcr.microsoft.com/azure-cli:1.9"), "digest": "sha256:" + "1" * 64, "ref": "r"}
    outs = provider.update("id", olds, props()).outs
    assert outs["digest"] == DIGEST and outs["source"] == "mcr.microsoft.com/azure-cli:2.0"
    assert transport.sent[0].body["mode"] == "Force" and transport.sent[0].body["targetTags"] == ["microsoft:azure-cli"]
    assert not any(r.method == "DELETE" for r in transport.sent)


def test_a_failed_reimport_leaves_the_old_tag_alone():
    """Constructed: importImage refused (a typo in the new source). Nothing else is called: the tag
    that works is not touched."""
    provider, transport = provider_for(
        [
            constructed(
                "POST",
                import_url(),
                404,
                {"error": {"code": "NotFound", "message": "manifest unknown: mcr.microsoft.com/azure-clli:2.0"}},
            )
        ]
    )
    olds = {**props(), "digest": DIGEST, "ref": "r"}
    with pytest.raises(ImportFailedError, match="manifest unknown"):
        provider.update("id", olds, props(source="mcr.microsoft.com/azure-clli:2.0"))
    assert [r.method for r in transport.sent] == ["POST"]


def test_delete_untags_what_it_imported():
    """Recorded: artifact_streaming#29-#32 (the tag still points to the recorded digest).
    Constructed: token (delete scope) and DELETE /acr/v1/microsoft/_tags/azure-cli 202."""
    provider, transport = provider_for(
        [
            *recorded_once(STREAMING, [29, 30, 31, 32]),
            constructed("POST", "https://clireg000002.azurecr.io/oauth2/token", 200, {"access_token": "REDACTED"}),
            constructed("DELETE", "https://clireg000002.azurecr.io/acr/v1/microsoft/_tags/azure-cli", 202),
        ]
    )
    provider.delete("id", {**props(), "digest": DIGEST})
    assert transport.unused() == []
    assert transport.sent[-1].method == "DELETE"


def test_delete_leaves_a_tag_that_moved_since():
    """Recorded: artifact_streaming#29-#32 (the tag points to another digest than the one recorded)."""
    provider, transport = provider_for(recorded_once(STREAMING, [29, 30, 31, 32]))
    provider.delete("id", {**props(), "digest": "sha256:" + hashlib.sha256(b"older").hexdigest()})
    assert [r.method for r in transport.sent if "/_tags/" in r.url] == ["GET"]


@pytest.mark.parametrize(
    "source,expected",
    [
        ("mcr.microsoft.com/azuredocs/azure-vote-front:v1", ("mcr.microsoft.com", "azuredocs/azure-vote-front:v1")),
        ("docker.io/library/alpine:3.20", ("docker.io", "library/alpine:3.20")),
        ("docker.io/alpine:3.20", ("docker.io", "library/alpine:3.20")),
        ("registry-1.docker.io/bitnami/redis:7.2", ("docker.io", "bitnami/redis:7.2")),
        (
            "registry.hub.docker.com/library/hello-world@sha256:" + "a" * 64,
            ("docker.io", "library/hello-world@sha256:" + "a" * 64),
        ),
        ("myregistry.azurecr.io:443/team/app:1", ("myregistry.azurecr.io:443", "team/app:1")),
    ],
)
def test_import_source(source, expected):
    """No HTTP: how a configured source becomes ImportSource fields."""
    fields = import_source(source)
    assert (fields["registryUri"], fields["sourceImage"]) == expected


# -- Credentials and source registries: what `az acr import` sends ---------------------------------------
def test_import_with_credentials_sends_them_as_az_acr_import_username_password_does():
    """Recorded: image_import#43 (POST importImage 202, sent by `az acr import --username --password`) and
    #44 (operationResults 200 Succeeded). Constructed: data-plane auth and tag of targetregistry000003.
    The body this provider sends must be the CLI's, the recorded password being REDACTED."""
    login = "targetregistry000003.azurecr.io"
    (cli_post,) = recorded_once(IMPORTS, [43])
    provider, transport = provider_for(
        [*recorded_once(IMPORTS, [43, 44]), *constructed_auth(login), tag(login, "microsoft", "azure-cli-1", DIGEST)]
    )
    source = cli_post.request_body["source"]
    result = provider.create(
        props(
            "targetregistry000003",
            source=f"{source['registryUri']}/{source['sourceImage']}",
            target="microsoft:azure-cli-1",
            sourceUsername=source["credentials"]["username"],
            sourcePassword="s3cret-token",
        )
    )
    sent = transport.sent[0].body
    assert sent["source"] == {**source, "credentials": {**source["credentials"], "password": "s3cret-token"}}
    assert sent["targetTags"] == cli_post.request_body["targetTags"]
    assert result.outs["digest"] == DIGEST and transport.unused() == []


def test_import_from_another_azure_registry_sends_its_resource_id_as_az_acr_import_registry_does():
    """Recorded: image_import#14 (POST importImage 202, `az acr import --registry <resource id>`) and #15
    (200 Succeeded). Constructed: data-plane auth and tag of targetregistry000003."""
    login = "targetregistry000003.azurecr.io"
    (cli_post,) = recorded_once(IMPORTS, [14])
    provider, transport = provider_for(
        [*recorded_once(IMPORTS, [14, 15]), *constructed_auth(login), tag(login, "microsoft", "azure-cli", DIGEST)]
    )
    source = cli_post.request_body["source"]
    provider.create(
        props(
            "targetregistry000003",
            source=f"sourceregistrysamesub000002.azurecr.io/{source['sourceImage']}",
            target="microsoft:azure-cli",
            sourceRegistryId=source["resourceId"],
        )
    )
    assert transport.sent[0].body["source"] == source  # no password, no registryUri


def test_a_failed_import_with_credentials_never_names_the_password():
    """Constructed: importImage refused with ARM's error shape (400), no recording has a refused one."""
    password = "s3cret-token"
    provider, _ = provider_for(
        [
            constructed(
                "POST",
                import_url(),
                400,
                {"error": {"code": "InvalidParameters", "message": "Unable to access the source registry."}},
            )
        ]
    )
    with pytest.raises(ImportFailedError) as raised:
        provider.create(props(source="ghcr.io/me/app:1", sourceUsername="me", sourcePassword=password))
    assert "Unable to access the source registry" in str(raised.value) and password not in str(raised.value)


def test_a_new_password_alone_imports_nothing_again():
    provider, transport = provider_for([])
    old = {**props(sourceUsername="me", sourcePassword="one"), "digest": DIGEST, "ref": "r"}
    result = provider.update("id", old, props(sourceUsername="me", sourcePassword="two"))
    assert transport.sent == [] and result.outs["digest"] == DIGEST


# -- ExistingImage: read, never written --------------------------------------------------------------------
def test_existing_image_reads_the_digest_and_imports_nothing():
    provider, transport = existing_provider_for(existing_tag_read(existing_props()))
    result = provider.create(existing_props())
    assert result.outs["digest"] == DIGEST and result.id == "streamabx7k2q9.azurecr.io/myapp:v1"
    assert [r.method for r in transport.sent] == ["GET", "POST", "POST", "GET"]  # auth + tag read only


def test_existing_image_missing_stops_with_one_line_naming_the_key():
    provider, _ = existing_provider_for(existing_tag_read(existing_props(), status=404))
    with pytest.raises(ExistingImageMissingError, match=r"myapp:v1 is not in .*images\[\]\.existing: true"):
        provider.create(existing_props())


def test_existing_image_delete_leaves_the_tag():
    provider, transport = existing_provider_for([])
    provider.delete("id", {**existing_props(), "digest": DIGEST})
    assert transport.sent == []
