"""Your own image and your own workload under mocks: one evaluation of a stack that uses every new key.

Private import (credentials as a secret), import from another Azure registry by id, an image already in
the registry, one built from a folder, and a custom workload on both pools (docs/own-image.md).
"""

from __future__ import annotations

import json

import kubernetes_validate
import pytest

from components.pod_security import OWN_USER
from contract import ANNOTATION_APP_READY_LOG
from offline.harness import evaluate
from stackconfig.errors import ConfigError
from stacks import program
from stacks.config import parse_stack_config

IMPORT = "pulumi-python:dynamic/acr:ImportedImage"
EXISTING = "pulumi-python:dynamic/acr:ExistingImage"
BUILD = "pulumi-python:dynamic/acr:AcrBuild"
STREAMING = "pulumi-python:dynamic/acr:StreamingArtifact"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
PASSWORD = "ghp_not-a-real-token-but-secret"
REGISTRY_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/other-rg/providers/"
    "Microsoft.ContainerRegistry/registries/otherregistry"
)
CONTAINER = {
    "port": 8080,
    "readinessPath": "/healthz",
    "command": ["/app/server"],
    "args": ["--port", "8080"],
    "env": {"MODE": "benchmark"},
    "appReadyLog": "listening on :8080",
}


def values(build_folder: str) -> dict:
    return {
        "scenario": "teleport-ab",
        "location": "westus3",
        "images": [
            {
                "name": "myapp",
                "source": "ghcr.io/me/myapp:1.4",
                "target": "myapp:1.4",
                "credentials": {"username": "me", "passwordKey": "ghcrToken"},
            },
            {
                "name": "shared",
                "source": "otherregistry.azurecr.io/base/api:2",
                "target": "api:2",
                "sourceRegistryId": REGISTRY_ID,
            },
            {"name": "pushed", "target": "pushed:7", "existing": True},
            {"name": "built", "target": "built:dev", "build": {"context": build_folder}},
        ],
        "syntheticImages": [],
        "activeWorkloads": ["mine"],
        "workloads": [
            {
                "name": "mine",
                "template": "custom",
                "image": "myapp",
                "container": CONTAINER,
                "arms": [{"pool": "teleporter"}, {"pool": "shuttle"}],
            }
        ],
    }


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    project = tmp_path_factory.mktemp("project")
    app_folder(project)
    stack_values = values("app")
    # Pulumi runs the program in the project directory; build contexts are relative to it.
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        config = parse_stack_config(stack_values)
        # The password is config of the stack (a secret key), never part of the model.
        return evaluate(lambda: program.build(config, "dev"), {**stack_values, "ghcrToken": PASSWORD})


def app_folder(project) -> None:
    (project / "app").mkdir()
    (project / "app" / "Dockerfile").write_text("FROM scratch\n")


def test_credentials_reach_the_import_as_a_secret_and_nowhere_in_plain(own):
    (private,) = [r for r in own.of_type(IMPORT) if r.inputs["source"] == "ghcr.io/me/myapp:1.4"]
    assert private.inputs["sourceUsername"] == "me"
    assert private.additional_secret_outputs == ["sourcePassword"]
    assert all(r.additional_secret_outputs == [] for r in own.of_type(IMPORT) if r is not private)
    # Everything declared and exported, with secrets left as the engine's secret markers: no plain password.
    plain = json.dumps([r.inputs for r in own.resources], default=str) + json.dumps(own.outputs, default=str)
    assert PASSWORD not in plain.replace(json.dumps(private.inputs["sourcePassword"], default=str), "")
    assert is_secret(private.inputs["sourcePassword"])


def is_secret(value) -> bool:
    return isinstance(value, dict) and "4dabf18193072939515e22adb298388d" in value


def test_an_azure_registry_source_sends_its_id_and_no_password(own):
    (shared,) = [r for r in own.of_type(IMPORT) if r.inputs["target"] == "api:2"]
    assert shared.inputs["sourceRegistryId"] == REGISTRY_ID and "sourcePassword" not in shared.inputs


def test_an_existing_image_declares_no_import_and_still_gets_its_streaming_artifact(own):
    assert "pushed:7" not in {r.inputs["target"] for r in own.of_type(IMPORT)}
    (existing,) = own.of_type(EXISTING)
    (artifact,) = [r for r in own.of_type(STREAMING) if r.inputs["repository"] == "pushed"]
    assert own.depends_on(artifact, existing) and own.outputs["images"]["pushed"]["digest"].startswith("sha256:")


def test_a_folder_is_built_by_an_acr_task(own):
    (build,) = own.of_type(BUILD)
    context = build.inputs["userContext"]
    assert context["dockerfile"] == "Dockerfile" and context["digest"].startswith("sha256:")
    assert "dockerfile" not in build.inputs


def test_the_custom_deployment_carries_port_probe_command_env_and_the_projects_confinement(own):
    deployments = own.of_type(DEPLOYMENT)
    assert {d.name for d in deployments} == {"workloads-mine-teleporter", "workloads-mine-shuttle"}
    for d in deployments:
        template = d.inputs["spec"]["template"]
        (container,) = template["spec"]["containers"]
        assert container["ports"] == [{"name": "main", "containerPort": 8080, "protocol": "TCP"}]
        assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "main"}
        assert container["command"] == ["/app/server"] and container["args"] == ["--port", "8080"]
        assert container["env"] == [{"name": "MODE", "value": "benchmark"}]
        security = container["securityContext"]
        assert security["runAsUser"] == OWN_USER and security["capabilities"] == {"drop": ["ALL"]}
        assert security["allowPrivilegeEscalation"] is False and security["runAsNonRoot"] is True
        assert template["metadata"]["annotations"] == {ANNOTATION_APP_READY_LOG: "listening on :8080"}


def test_bad_values_of_every_new_key_stop_before_anything_is_declared(tmp_path, monkeypatch):
    app_folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    good = values("app")
    image, workload = good["images"][0], good["workloads"][0]
    cases = {
        "images[0].credentials.username": {**image, "credentials": {"username": "me you", "passwordKey": "k"}},
        "images[0].credentials.passwordKey": {**image, "credentials": {"username": "me", "passwordKey": "a:b"}},
        "images[0].sourceRegistryId": {**image, "credentials": None, "sourceRegistryId": "/subscriptions/x"},
        "images[0].existing": {**image, "existing": True},
        "images[0].build.context": {"target": "b:1", "build": {"context": "missing"}},
        "images[0].build.dockerfile": {"target": "b:1", "build": {"context": "app", "dockerfile": "../x"}},
    }
    container_cases = {
        "port": 0,
        "readinessPath": "healthz",
        "readinessCommand": [],
        "command": [""],
        "env": {"1BAD": "x"},
        "appReadyLog": "(unclosed",
        "confinement": "privileged",
        "resources": {"cpuRequest": "lots"},
    }
    for key, image_value in cases.items():
        problems = problems_of({**good, "images": [image_value, *good["images"][1:]]})
        assert any(p.startswith(f"acr-streaming-ab:{key}:") for p in problems), (key, problems)
    for key, value in container_cases.items():
        bad = {**workload, "container": {**CONTAINER, key: value}}
        problems = problems_of({**good, "workloads": [bad]})
        assert any(p.startswith(f"acr-streaming-ab:workloads[0].container.{key}") for p in problems), (key, problems)
    for key, bad in (
        ("workloads[0].container", {k: v for k, v in workload.items() if k != "container"}),
        ("workloads[0].port", {**workload, "port": 80}),
        ("workloads[0].container", {**workload, "template": "single"}),
    ):
        problems = problems_of({**good, "workloads": [bad]})
        assert any(p.startswith(f"acr-streaming-ab:{key}:") for p in problems), (key, problems)


def test_a_container_with_nothing_to_say_when_ready_is_refused():
    problems = problems_of_container({"command": ["/app"]})
    assert any("nothing says when the app is ready" in p for p in problems), problems
    problems = problems_of_container({"readinessPath": "/h", "readinessCommand": ["true"], "port": 1})
    assert any("one readiness probe per container" in p for p in problems), problems


def problems_of_container(container: dict) -> list[str]:
    return problems_of(
        {
            **values("."),
            "images": values(".")["images"][:1],
            "workloads": [{**values(".")["workloads"][0], "container": container}],
        }
    )


def problems_of(stack_values: dict) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(stack_values)
    return raised.value.problems


def test_the_password_key_must_be_a_secret_of_the_stack_and_is_never_read_as_config(tmp_path, monkeypatch):
    import pulumi

    from offline.harness import config_values
    from stacks.config import check_password_keys, read_pulumi_config

    app_folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    stack_values = values("app")
    engine = {**config_values(stack_values), "acr-streaming-ab:ghcrToken": PASSWORD}
    pulumi.runtime.set_all_config(engine, ["acr-streaming-ab:ghcrToken"])
    read = read_pulumi_config()
    assert "ghcrToken" not in read and PASSWORD not in json.dumps(read)
    config = parse_stack_config(read)
    check_password_keys(config, {"ghcrToken"})  # named and secret: accepted
    with pytest.raises(ConfigError) as raised:
        check_password_keys(config, set())  # set in plain, or not at all
    assert raised.value.problems == [
        "acr-streaming-ab:images[0].credentials.passwordKey: 'ghcrToken' is not a secret key of this stack; "
        "allowed: a key set with `pulumi config set --secret ghcrToken <password>` (not a configuration key)"
    ]
    with pytest.raises(ConfigError, match="acr-streaming-ab:strayToken: unknown secret key"):
        check_password_keys(config, {"ghcrToken", "strayToken"})
    pulumi.runtime.set_all_config({}, [])


def test_a_password_set_without_secret_is_named_with_the_secret_command_and_never_echoed():
    import pulumi

    from offline.harness import config_values
    from stacks.config import read_pulumi_config

    engine = {**config_values(values("app")), "acr-streaming-ab:ghcrToken": PASSWORD}
    pulumi.runtime.set_all_config(engine, [])  # `pulumi config set ghcrToken …`, no --secret
    try:
        with pytest.raises(ConfigError) as raised:
            read_pulumi_config()
    finally:
        pulumi.runtime.set_all_config({}, [])
    (problem,) = raised.value.problems
    assert problem.startswith("acr-streaming-ab:ghcrToken: images[0].credentials.passwordKey names this key")
    assert "`pulumi config set --secret ghcrToken <password>`" in problem and PASSWORD not in str(raised.value)


@pytest.mark.parametrize(
    ("context", "why"),
    [
        ("/etc", "is not a path relative to the project directory"),
        ("app/../..", "leaves the project directory"),
        ("../elsewhere", "leaves the project directory"),
        (".", "is the project directory itself"),
        ("app/..", "leaves the project directory"),
        ("link", "resolves to a folder outside the project directory"),
    ],
)
def test_a_build_context_stays_inside_the_project(tmp_path, monkeypatch, context, why):
    project = tmp_path / "project"
    project.mkdir()
    app_folder(project)
    (tmp_path / "elsewhere").mkdir()
    (project / "link").symlink_to(tmp_path / "elsewhere")
    monkeypatch.chdir(project)
    image = {"target": "b:1", "build": {"context": context}}
    problems = problems_of({**values("app"), "images": [image], "workloads": [], "activeWorkloads": []})
    assert any(p.startswith(f"acr-streaming-ab:images[0].build.context: {context!r} {why}") for p in problems), problems


def test_a_context_that_cannot_be_packed_is_one_config_line(tmp_path, monkeypatch):
    from offline import harness
    from offline.harness import RecordingMonitor as Recording
    from providers import build_context

    app_folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    stack_values = {**values("app"), "images": values("app")["images"][3:], "workloads": [], "activeWorkloads": []}
    config = parse_stack_config(stack_values)
    monkeypatch.setattr(build_context, "MAX_CONTEXT_BYTES", 2**20)
    (tmp_path / "app" / "big").write_bytes(b"x" * 2 * 2**20)
    monitors = []
    monkeypatch.setattr(harness, "RecordingMonitor", lambda mocks: monitors.append(Recording(mocks)) or monitors[-1])
    with pytest.raises(ConfigError) as raised:
        evaluate(lambda: program.build(config, "dev"), stack_values)
    assert [d.type for d in monitors[0].declared] == []  # not even the resource group
    (problem,) = raised.value.problems
    assert problem.startswith("acr-streaming-ab:images[0].build.context: the folder is more than 1 MiB as a tar")


def test_the_context_key_says_what_the_packer_leaves_out_and_its_cap():
    from providers import build_context
    from stackconfig.images import BuildConfig

    description = BuildConfig.model_fields["context"].description or ""
    assert f"{build_context.MAX_CONTEXT_BYTES // 2**20} MiB" in description
    assert all(f"`{name}`" in description for name in build_context.LEFT_OUT_FOLDERS)


def test_the_documented_stack_file_is_a_valid_stack():
    import re
    from pathlib import Path

    import yaml

    from stacks.config import check_password_keys

    text = (Path(__file__).resolve().parents[2] / "docs" / "own-image.md").read_text()
    (block,) = re.findall(r"```yaml\n(.*?)```", text, re.S)
    config = yaml.safe_load(block)["config"]
    keys = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("acr-streaming-ab:")}
    secret = {k for k, v in keys.items() if isinstance(v, dict) and "secure" in v}
    parsed = parse_stack_config({k: v for k, v in keys.items() if k not in secret})
    check_password_keys(parsed, secret)
    (workload,) = parsed.workloads
    assert workload.template == "custom" and parsed.images[0].credentials is not None


def test_a_custom_container_gets_cluster_dns_and_its_port_under_the_default_deny(own):
    """Without `container.network` the default is DNS only; the declared policies validate."""
    found = {
        p.inputs["metadata"]["name"]: p.inputs for p in own.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    }
    assert set(found) == {"default-deny", "mine-teleporter", "mine-shuttle"}
    spec = found["mine-teleporter"]["spec"]
    assert spec["podSelector"] == {
        "matchLabels": {"streaming-ab/arm": "mine-teleporter", "app.kubernetes.io/name": "mine"}
    }
    assert [peer["podSelector"] for rule in spec["egress"] for peer in rule["to"]] == [
        {"matchLabels": {"k8s-app": "kube-dns"}}
    ]
    assert spec["ingress"] == [{"from": [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": 8080}]}]
    for policy in found.values():
        kubernetes_validate.validate(integral(policy), "1.33.0", strict=True)


def integral(value):
    """Registered inputs as a manifest: the engine hands numbers back as floats."""
    if isinstance(value, dict):
        return {k: integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integral(v) for v in value]
    return int(value) if isinstance(value, float) and value.is_integer() else value
