"""The GitHub workflows, checked offline.

Every file in .github/workflows/ must pass check-jsonschema's vendored GitHub workflow schema (shipped
inside the package, so no network), and the workflows must keep the properties the project relies on:
OIDC only (no client secret anywhere), the preview matrix built from the Pulumi.<stack>.yaml files,
idempotency proven with --expect-no-changes, teardown behind a typed-twice confirmation, and CI running
the README's test command. Shell steps that carry logic (stack matrix, confirmation, federated token
refresh, park/reset-caches) are executed here against temporary directories and stub commands.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
CLOUD_WORKFLOWS = ("preview", "deploy", "teardown", "measure")
# Previews run a pull request's code: they sign in as their own, read-only identity.
IDENTITY = {
    "preview": "AZURE_PREVIEW_CLIENT_ID",
    "deploy": "AZURE_CLIENT_ID",
    "teardown": "AZURE_CLIENT_ID",
    "measure": "AZURE_CLIENT_ID",
}
IDENTITY_KEYS = ("ARM_CLIENT_ID", "AZURE_CLIENT_ID")
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
# The README test command, used only if README.md is missing; README.md wins when it exists.
DEFAULT_TEST_COMMAND = (
    "python3 -m venv venv && venv/bin/python -m pip install -q -r requirements-dev.txt && venv/bin/python -m pytest -q"
)


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / f"{name}.yml").read_text())


def triggers(workflow: dict) -> dict:
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return on


def steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def step(workflow: dict, job: str, name: str) -> dict:
    matches = [s for s in steps(workflow, job) if s.get("name") == name]
    assert len(matches) == 1, f"{job}: expected one step named {name!r}"
    return matches[0]


def uses(workflow: dict, job: str, action: str) -> list[dict]:
    return [s for s in steps(workflow, job) if str(s.get("uses", "")).split("@")[0] == action]


def readme_test_command() -> str:
    readme = ROOT / "README.md"
    if not readme.exists():
        return DEFAULT_TEST_COMMAND
    in_code = False
    for line in readme.read_text().splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        if in_code and "pytest" in line:
            return line.strip().removeprefix("$ ").strip()
    pytest.fail("README.md has no code line running pytest")


def run_bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


# --------------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------------
def test_every_workflow_is_there():
    assert {p.stem for p in WORKFLOW_FILES} >= {"test", "preview", "deploy", "teardown", "measure"}


def test_workflows_match_the_vendored_github_schema():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, WORKFLOW_FILES),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path):
    # The control for the test above: the vendored schema really is applied (offline).
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-onn: ubuntu-latest\n    steps:\n      - run: echo\n")
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and "runs-on" in result.stdout


# --------------------------------------------------------------------------------------------------
# test.yml
# --------------------------------------------------------------------------------------------------
def test_test_workflow_runs_the_readme_command_on_every_pull_request_and_push():
    workflow = load("test")
    assert {"pull_request", "push"} <= set(triggers(workflow))
    for event in ("pull_request", "push"):
        # No branch or path filter: every pull request and every push.
        assert not triggers(workflow)[event], f"{event} is filtered"
    (job,) = workflow["jobs"]
    setup = uses(workflow, job, "actions/setup-python")
    assert len(setup) == 1
    assert str(setup[0]["with"]["python-version"]) == "3.11"
    assert setup[0]["with"]["cache"] == "pip"
    runs = [s["run"].strip() for s in steps(workflow, job) if "run" in s]
    assert readme_test_command() in runs


# --------------------------------------------------------------------------------------------------
# OIDC only
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_no_client_secret_anywhere(path):
    text = path.read_text()
    assert not re.search(r"secrets\.[A-Za-z0-9_]*CLIENT_SECRET", text, re.IGNORECASE)
    assert not re.search(r"(ARM|AZURE)_CLIENT_SECRET|client-secret|creds:", text)
    # Nothing reads repository secrets at all: identifiers come from repository variables.
    assert not re.search(r"\$\{\{\s*secrets\.", text)


@pytest.mark.parametrize("name", CLOUD_WORKFLOWS)
def test_cloud_jobs_log_in_with_oidc_federation(name):
    workflow = load(name)
    env = workflow["env"]
    identity = IDENTITY[name]
    for key, variable in {
        "ARM_CLIENT_ID": identity,
        "ARM_TENANT_ID": "AZURE_TENANT_ID",
        "ARM_SUBSCRIPTION_ID": "AZURE_SUBSCRIPTION_ID",
        "AZURE_CLIENT_ID": identity,
        "AZURE_TENANT_ID": "AZURE_TENANT_ID",
    }.items():
        assert env[key] == f"${{{{ vars.{variable} }}}}", key
    assert env["ARM_USE_OIDC"] == "true"
    assert env["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"
    assert env["AZURE_STORAGE_ACCOUNT"].startswith("${{ vars.")
    assert env["PULUMI_SECRETS_PROVIDER"].startswith("${{ vars.")
    assert workflow["permissions"] == {"contents": "read"}, "the workflow-wide token stays read-only"
    cloud_jobs = [job for job in workflow["jobs"] if uses(workflow, job, "azure/login")]
    assert cloud_jobs
    for job in cloud_jobs:
        permissions = workflow["jobs"][job]["permissions"]
        assert permissions["id-token"] == "write" and permissions["contents"] == "read"
        (login,) = uses(workflow, job, "azure/login")
        assert login["with"] == {
            "client-id": f"${{{{ vars.{identity} }}}}",
            "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
            "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
        }


def test_cloud_workflows_share_the_same_setup():
    # Three copies of the same setup must not drift: backend, identity and token handling are one design.
    shared_steps = (
        "Program and policy pack virtualenvs",
        "Install the Pulumi CLI",
        "Azure login (OIDC federation)",
        "Keep a fresh federated token for azidentity",
    )

    def without_identity(workflow: dict, job: str) -> tuple[dict, list[dict]]:
        env = {k: v for k, v in workflow["env"].items() if k not in IDENTITY_KEYS}
        shared = [dict(step(workflow, job, step_name)) for step_name in shared_steps]
        for found in shared:
            if "with" in found:
                found["with"] = {k: v for k, v in found["with"].items() if k != "client-id"}
        return env, shared

    reference = without_identity(load("preview"), "preview")
    for name in ("deploy", "teardown", "measure"):
        workflow = load(name)
        job = next(j for j in workflow["jobs"] if uses(workflow, j, "azure/login"))
        assert without_identity(workflow, job) == reference, name


def test_the_azure_sdk_credential_chain_uses_the_federated_token_file(tmp_path, monkeypatch):
    # The dynamic providers' DefaultAzureCredential, with the environment the workflows set: the
    # environment credential stays unconfigured (no secret) and workload identity comes before az CLI.
    from azure.identity import (
        AzureCliCredential,
        CredentialUnavailableError,
        DefaultAzureCredential,
        EnvironmentCredential,
        WorkloadIdentityCredential,
    )

    token = tmp_path / "azure-federated-token"
    token.write_text("header.payload.signature")
    for key in ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME", "AZURE_PASSWORD"):
        monkeypatch.delenv(key, raising=False)
    env = load("deploy")["env"]
    monkeypatch.setenv("AZURE_CLIENT_ID", "11111111-1111-1111-1111-111111111111")
    monkeypatch.setenv("AZURE_TENANT_ID", "72f988bf-86f1-41af-91ab-2d7cd011db47")
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", env["AZURE_AUTHORITY_HOST"])
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token))
    chain = [type(c) for c in DefaultAzureCredential().credentials]
    assert chain.index(WorkloadIdentityCredential) < chain.index(AzureCliCredential)
    environment = DefaultAzureCredential().credentials[chain.index(EnvironmentCredential)]
    with pytest.raises(CredentialUnavailableError):
        environment.get_token("https://management.azure.com/.default")


class _TokenEndpoint(BaseHTTPRequestHandler):
    requests: list[tuple[str, str]] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        type(self).requests.append((self.path, self.headers.get("Authorization", "")))
        body = json.dumps({"value": "eyJ.fresh.token"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq (as on runners)")
def test_the_federated_token_step_writes_the_file_and_exports_it(tmp_path):
    server = HTTPServer(("127.0.0.1", 0), _TokenEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    github_env = tmp_path / "github_env"
    script = step(load("deploy"), "deploy", "Keep a fresh federated token for azidentity")["run"]
    # Its own session, so that the background refresher it starts can be stopped by that id.
    process = subprocess.Popen(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=tmp_path,
        start_new_session=True,
        env={
            **os.environ,
            "RUNNER_TEMP": str(tmp_path),
            "GITHUB_ENV": str(github_env),
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"http://127.0.0.1:{server.server_port}/token?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 0, stderr
        token_file = tmp_path / "azure-federated-token"
        assert token_file.read_text() == "eyJ.fresh.token"
        assert github_env.read_text() == f"AZURE_FEDERATED_TOKEN_FILE={token_file}\n"
        path, authorization = _TokenEndpoint.requests[0]
        assert path == "/token?api-version=2.0&audience=api://AzureADTokenExchange"
        assert authorization == "Bearer request-token"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)  # the refresher loop left running in that session
        server.shutdown()


# --------------------------------------------------------------------------------------------------
# preview.yml and the stack matrix
# --------------------------------------------------------------------------------------------------
def test_preview_runs_on_pull_requests_for_every_stack_with_pr_comments():
    workflow = load("preview")
    assert "pull_request" in triggers(workflow)
    job = workflow["jobs"]["preview"]
    assert job["permissions"] == {"id-token": "write", "contents": "read", "pull-requests": "write"}
    assert job["needs"] == "stacks"
    assert job["strategy"]["matrix"] == "${{ fromJSON(needs.stacks.outputs.matrix) }}"
    assert workflow["jobs"]["stacks"]["outputs"]["matrix"] == "${{ steps.stacks.outputs.matrix }}"
    previews = [s for s in uses(workflow, "preview", "pulumi/actions") if s.get("with", {}).get("command")]
    assert len(previews) == 1
    inputs = previews[0]["with"]
    assert inputs["command"] == "preview"
    assert inputs["comment-on-pr"] is True and inputs["edit-pr-comment"] is True
    assert inputs["stack-name"] == "${{ matrix.stack }}"
    assert inputs["work-dir"] == "."
    assert inputs["policyPacks"] == "policy"
    # Its federated credential's subject is repo:<org>/<repo>:environment:preview, behind reviewers.
    assert job["environment"] == "preview"
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"


def test_stacks_are_created_with_the_team_secrets_provider():
    workflow = load("deploy")
    select = step(workflow, "deploy", "Select the stack (created with the team secrets provider when missing)")
    assert 'pulumi stack select --create "$STACK" --secrets-provider "$PULUMI_SECRETS_PROVIDER"' in select["run"]


def matrix_script(name: str) -> str:
    return step(load(name), "stacks", "Matrix from the Pulumi.<stack>.yaml files")["run"]


def run_matrix(
    tmp_path: Path, files: list[str], requested: str = "", contents: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess, str]:
    for file in files:
        (tmp_path / file).write_text((contents or {}).get(file, "config: {}\n"))
    output = tmp_path / "github_output"
    output.write_text("")
    result = run_bash(matrix_script("preview"), tmp_path, {"GITHUB_OUTPUT": str(output), "REQUESTED": requested})
    return result, output.read_text()


def outputs_of(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines())


def test_preview_and_deploy_build_the_matrix_the_same_way():
    assert matrix_script("preview") == matrix_script("deploy")
    assert load("deploy")["jobs"]["stacks"]["steps"][1]["env"]["REQUESTED"] == "${{ inputs.stack }}"


def test_the_matrix_has_one_entry_per_stack_file(tmp_path):
    result, output = run_matrix(tmp_path, ["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.teleport.yaml", "README.md"])
    assert result.returncode == 0, result.stderr
    assert outputs_of(output)["matrix"] == '{"stack": ["dev", "teleport"]}'


def test_the_matrix_of_the_repository_is_its_stack_files(tmp_path):
    stacks = [p.name for p in ROOT.glob("Pulumi.*.yaml")]
    result, output = run_matrix(tmp_path, stacks, contents={name: (ROOT / name).read_text() for name in stacks})
    assert result.returncode == 0, result.stderr
    expected = sorted(name.split(".")[1] for name in stacks)
    found = outputs_of(output)
    assert json.loads(found["matrix"]) == {"stack": expected}
    # The registry stack is deployed first, on its own; every other stack after it.
    assert json.loads(found["registry"]) == {"stack": ["registry"]}
    assert json.loads(found["experiments"]) == {"stack": [s for s in expected if s != "registry"]}


def test_a_dispatch_narrows_the_matrix_to_an_existing_stack(tmp_path):
    result, output = run_matrix(tmp_path, ["Pulumi.dev.yaml", "Pulumi.teleport.yaml"], requested="teleport")
    assert result.returncode == 0, result.stderr
    assert outputs_of(output)["matrix"] == '{"stack": ["teleport"]}'
    assert outputs_of(output)["has_registry"] == "false" and outputs_of(output)["has_experiments"] == "true"
    result, output = run_matrix(tmp_path, [], requested="dev teleport")
    assert result.returncode != 0 and "no Pulumi.dev teleport.yaml" in result.stdout and output == ""


@pytest.mark.parametrize(
    "files,message",
    [
        ([], "no Pulumi.<stack>.yaml file"),
        (["Pulumi.dev$(id).yaml"], "is not a stack name"),
    ],
)
def test_the_matrix_step_fails_without_usable_stack_files(tmp_path, files, message):
    result, output = run_matrix(tmp_path, files)
    assert result.returncode != 0 and message in result.stdout and output == ""


# --------------------------------------------------------------------------------------------------
# deploy.yml
# --------------------------------------------------------------------------------------------------
def test_deploy_runs_on_main_or_for_a_dispatched_stack():
    workflow = load("deploy")
    on = triggers(workflow)
    assert on["push"]["branches"] == ["main"]
    assert on["workflow_dispatch"]["inputs"]["stack"]["required"] is True


def test_the_registry_stack_is_deployed_before_the_experiment_stacks():
    jobs = load("deploy")["jobs"]
    assert jobs["registry"]["strategy"]["matrix"] == "${{ fromJSON(needs.stacks.outputs.registry) }}"
    assert jobs["deploy"]["strategy"]["matrix"] == "${{ fromJSON(needs.stacks.outputs.experiments) }}"
    assert jobs["deploy"]["needs"] == ["stacks", "registry"]
    # Runs when the registry job succeeded or had nothing to do, never after it failed.
    condition = " ".join(jobs["deploy"]["if"].split())
    assert "needs.registry.result == 'success' || needs.registry.result == 'skipped'" in condition
    assert jobs["registry"]["if"] == "needs.stacks.outputs.has_registry == 'true'"
    # The same steps (a YAML anchor), so both deploy and check idempotency alike.
    assert jobs["registry"]["steps"] == jobs["deploy"]["steps"]
    assert jobs["registry"]["environment"] == jobs["deploy"]["environment"] == "${{ matrix.stack }}"


def test_the_registry_stack_file_is_recognised(tmp_path):
    registry = "config:\n  acr-streaming-ab:role: registry\n"
    result, output = run_matrix(
        tmp_path, ["Pulumi.dev.yaml", "Pulumi.shared.yaml"], contents={"Pulumi.shared.yaml": registry}
    )
    found = outputs_of(output)
    assert result.returncode == 0 and json.loads(found["registry"]) == {"stack": ["shared"]}
    assert json.loads(found["experiments"]) == {"stack": ["dev"]}


def test_deploy_applies_then_proves_that_a_second_run_changes_nothing():
    workflow = load("deploy")
    names = [s.get("name") for s in steps(workflow, "deploy")]
    (up,) = [s for s in uses(workflow, "deploy", "pulumi/actions") if s.get("with", {}).get("command") == "up"]
    assert up["with"]["stack-name"] == "${{ matrix.stack }}" and up["with"]["policyPacks"] == "policy"
    check = step(workflow, "deploy", "Second run must change nothing (idempotency)")
    assert "--expect-no-changes" in check["run"] and '--stack "$STACK"' in check["run"]
    assert names.index(check["name"]) > names.index(up["name"])


@pytest.mark.parametrize(
    "name,stack", [("deploy", "matrix.stack"), ("teardown", "inputs.stack"), ("measure", "inputs.stack")]
)
def test_one_operation_per_stack_behind_its_environment(name, stack):
    workflow = load(name)
    job = workflow["jobs"][name]
    assert job["environment"] == f"${{{{ {stack} }}}}"
    # deploy and teardown share the group, so they queue behind each other for the same stack.
    assert job["concurrency"] == {"group": f"pulumi-stack-${{{{ {stack} }}}}", "cancel-in-progress": False}
    assert job["env"]["STACK"] == f"${{{{ {stack} }}}}"


# --------------------------------------------------------------------------------------------------
# teardown.yml
# --------------------------------------------------------------------------------------------------
def test_teardown_is_manual_with_a_confirmation_and_three_modes():
    workflow = load("teardown")
    on = triggers(workflow)
    assert set(on) == {"workflow_dispatch"}
    inputs = on["workflow_dispatch"]["inputs"]
    assert inputs["stack"]["required"] and inputs["confirm"]["required"]
    assert set(inputs["mode"]["options"]) == {"destroy", "park", "reset-caches"}
    assert workflow["jobs"]["teardown"]["needs"] == "confirm"


def confirm(
    tmp_path: Path, stack: str, typed: str, mode: str = "destroy", allow_registry: str = "false"
) -> subprocess.CompletedProcess:
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "Pulumi.registry.yaml").write_text("config:\n  acr-streaming-ab:role: registry\n")
    script = step(load("teardown"), "confirm", "The stack name typed twice, and a stack file for it")["run"]
    return run_bash(
        script, tmp_path, {"STACK": stack, "CONFIRM": typed, "MODE": mode, "ALLOW_REGISTRY": allow_registry}
    )


def test_teardown_refuses_the_registry_stack_unless_asked_explicitly(tmp_path):
    refused = confirm(tmp_path, "registry", "registry", "destroy")
    assert refused.returncode != 0 and "shared registry stack" in refused.stdout and "registry: true" in refused.stdout
    park = confirm(tmp_path, "registry", "registry", "park", allow_registry="true")
    assert park.returncode != 0 and "no pools to park" in park.stdout
    allowed = confirm(tmp_path, "registry", "registry", "destroy", allow_registry="true")
    assert allowed.returncode == 0 and "confirmed: destroy registry" in allowed.stdout
    destroy = step(load("teardown"), "teardown", "Destroy every resource of the stack")
    assert "pulumi state unprotect" not in destroy["run"]  # one sequence for every stack holding a registry


def test_teardown_goes_ahead_when_the_stack_name_is_typed_twice(tmp_path):
    result = confirm(tmp_path, "dev", "dev")
    assert result.returncode == 0 and "confirmed: destroy dev" in result.stdout


@pytest.mark.parametrize(
    "stack,typed,mode,message",
    [
        ("dev", "Dev", "destroy", "does not match"),
        ("dev", "", "park", "does not match"),
        ("prod", "prod", "destroy", "no Pulumi.prod.yaml"),
        ("dev", "dev", "nuke", "unknown mode"),
    ],
)
def test_teardown_stops_when_the_confirmation_fails(tmp_path, stack, typed, mode, message):
    result = confirm(tmp_path, stack, typed, mode)
    assert result.returncode != 0 and message in result.stdout


def fake_pulumi(tmp_path: Path, config_json: dict) -> Path:
    """A `pulumi` stub on PATH that logs its arguments and answers `config --json`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "config.json").write_text(json.dumps(config_json))
    stub = bin_dir / "pulumi"
    stub.write_text(
        '#!/usr/bin/env bash\necho "$*" >> "$PULUMI_LOG"\n'
        'if [[ "$*" == *"config --stack"*"--json"* ]]; then cat "$CONFIG_JSON"; fi\n'
    )
    stub.chmod(0o755)
    return bin_dir


@pytest.mark.parametrize("current,expected", [(None, 1), ("4", 5)])
def test_reset_caches_sets_the_next_cache_generation_then_updates(tmp_path, current, expected):
    config = {} if current is None else {"acr-streaming-ab:cacheGeneration": {"value": current, "secret": False}}
    bin_dir = fake_pulumi(tmp_path, config)
    script = step(load("teardown"), "teardown", "Reset caches (next cache generation)")["run"]
    result = run_bash(
        script,
        tmp_path,
        {
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "STACK": "dev",
            "PULUMI_LOG": str(tmp_path / "log"),
            "CONFIG_JSON": str(tmp_path / "config.json"),
        },
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "log").read_text().splitlines() == [
        "config --stack dev --json",
        f"config set --stack dev acr-streaming-ab:cacheGeneration {expected}",
        "up --stack dev --yes --diff --policy-pack policy",
    ]


def test_reset_caches_refuses_a_generation_that_is_not_a_number(tmp_path):
    bin_dir = fake_pulumi(tmp_path, {"acr-streaming-ab:cacheGeneration": {"value": "two", "secret": False}})
    script = step(load("teardown"), "teardown", "Reset caches (next cache generation)")["run"]
    result = run_bash(
        script,
        tmp_path,
        {
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "STACK": "dev",
            "PULUMI_LOG": str(tmp_path / "log"),
            "CONFIG_JSON": str(tmp_path / "config.json"),
        },
    )
    assert result.returncode != 0 and "not a non-negative integer" in result.stdout
    assert "up" not in (tmp_path / "log").read_text()


def test_park_sets_parked_then_updates_and_destroy_destroys(tmp_path):
    bin_dir = fake_pulumi(tmp_path, {})
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "STACK": "dev",
        "PULUMI_LOG": str(tmp_path / "log"),
        "CONFIG_JSON": str(tmp_path / "config.json"),
    }
    workflow = load("teardown")
    park = step(workflow, "teardown", "Park (every experiment pool to 0 nodes)")
    destroy = step(workflow, "teardown", "Destroy every resource of the stack")
    assert park["if"] == "inputs.mode == 'park'" and destroy["if"] == "inputs.mode == 'destroy'"
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  acr-streaming-ab:scenario: teleport-ab\n")
    assert run_bash(park["run"], tmp_path, env).returncode == 0
    assert run_bash(destroy["run"], tmp_path, env).returncode == 0
    # README task 5: the registry's protection is lifted by config and `up` before the destroy.
    assert (tmp_path / "log").read_text().splitlines() == [
        "config set --stack dev acr-streaming-ab:parked true",
        "up --stack dev --yes --diff --policy-pack policy",
        "config set --stack dev --path acr-streaming-ab:registry.protect false",
        "up --stack dev --yes --diff --policy-pack policy",
        "destroy --stack dev --yes",
    ]


def test_destroy_of_an_experiment_stack_is_a_destroy_alone(tmp_path):
    bin_dir = fake_pulumi(tmp_path, {})
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "STACK": "exp", "PULUMI_LOG": str(tmp_path / "log")}
    (tmp_path / "Pulumi.exp.yaml").write_text(
        "config:\n  acr-streaming-ab:registryStack: org/acr-streaming-ab/registry\n"
    )
    destroy = step(load("teardown"), "teardown", "Destroy every resource of the stack")
    assert run_bash(destroy["run"], tmp_path, env).returncode == 0
    assert (tmp_path / "log").read_text().splitlines() == ["destroy --stack exp --yes"]


def test_the_teardown_sequence_of_readme_task_5_is_the_workflows():
    readme = (WORKFLOWS.parents[1] / "README.md").read_text()
    task = readme.split("### 5. Tear down", 1)[1].split("\n## ", 1)[0]
    assert "pulumi config set --path acr-streaming-ab:registry.protect false" in task
    assert task.index("registry.protect false") < task.index("pulumi up") < task.index("pulumi destroy")
    from stacks.config import parse_stack_config

    protected = parse_stack_config({"location": "westus3", "registry": {"protect": False}})
    assert protected.protect_registry is False and parse_stack_config({"location": "westus3"}).protect_registry


def test_the_config_keys_teardown_sets_exist():
    from stacks.config import CONFIG_KEYS, parse_stack_config

    assert {"parked", "cacheGeneration"} <= set(CONFIG_KEYS)
    parked = parse_stack_config({"location": "westus3", "parked": True, "cacheGeneration": 1})
    assert parked.cache_generation == 1 and all(p.count == 0 for p in parked.pools)


def test_teardown_never_creates_a_stack():
    workflow = load("teardown")
    select = step(workflow, "teardown", "Select the stack (it must exist already)")
    assert select["run"].strip() == 'pulumi stack select "$STACK"'
    assert "--create" not in (WORKFLOWS / "teardown.yml").read_text()


def test_jobs_time_out_below_the_oidc_request_token_lifetime():
    # ACTIONS_ID_TOKEN_REQUEST_TOKEN lives about 6 h: no Azure token can be renewed after that.
    for name in CLOUD_WORKFLOWS:
        for job_name, job in load(name)["jobs"].items():
            assert 0 < job["timeout-minutes"] <= 330, (name, job_name)


# --------------------------------------------------------------------------------------------------
# Supply chain, identities, approvals, permissions
# --------------------------------------------------------------------------------------------------
def every_uses(workflow: dict) -> list[str]:
    return [str(s["uses"]) for job in workflow["jobs"].values() for s in job.get("steps", []) if "uses" in s]


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_release_in_a_comment(path):
    workflow = yaml.safe_load(path.read_text())
    assert every_uses(workflow), "no action found: the check would pass vacuously"
    for action in every_uses(workflow):
        assert PINNED.match(action), f"{action} is not pinned to a 40-hex commit"
    # The comment names the release the commit was taken from, so a reviewer can compare.
    for line in path.read_text().splitlines():
        if re.match(r"^\s*(-\s+)?uses:", line):
            assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


def test_an_action_is_pinned_to_the_same_commit_everywhere():
    pins: dict[str, set[str]] = {}
    for path in WORKFLOW_FILES:
        for action in every_uses(yaml.safe_load(path.read_text())):
            name, ref = action.split("@")
            pins.setdefault(name, set()).add(ref)
    assert {"actions/checkout", "actions/setup-python", "pulumi/actions", "azure/login"} <= set(pins)
    assert all(len(refs) == 1 for refs in pins.values()), pins


def test_previews_never_sign_in_as_the_deploy_identity():
    text = (WORKFLOWS / "preview.yml").read_text()
    assert not re.search(r"vars\.AZURE_CLIENT_ID\b", text), "the deploy identity in preview.yml"
    assert not re.search(r"\$\{\{\s*secrets\.", text)
    assert set(triggers(load("preview"))) == {"pull_request"}, "pull_request_target would hand forks the secrets"
    assert "--create" not in text, "creating a stack writes to the state the preview identity only reads"
    for name in ("deploy", "teardown", "measure"):
        assert "AZURE_PREVIEW_CLIENT_ID" not in (WORKFLOWS / f"{name}.yml").read_text(), name


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_no_job_gets_an_azure_token_outside_an_environment(path):
    # The environment is the approval gate and the OIDC subject the federated credentials accept.
    workflow = yaml.safe_load(path.read_text())
    for name, job in workflow["jobs"].items():
        if (job.get("permissions") or {}).get("id-token") == "write":
            assert job.get("environment"), f"{path.name}:{name} requests an OIDC token without an environment"


# Every job's token, exactly: read-only by default, a write only where a step needs it.
JOB_PERMISSIONS = {
    ("test", "pytest"): None,
    ("preview", "stacks"): {"contents": "read", "actions": "read"},
    ("preview", "preview"): {"id-token": "write", "contents": "read", "pull-requests": "write"},
    ("deploy", "stacks"): {"contents": "read", "actions": "read"},
    ("deploy", "registry"): {"id-token": "write", "contents": "read"},
    ("deploy", "deploy"): {"id-token": "write", "contents": "read"},
    ("teardown", "confirm"): {"contents": "read", "actions": "read"},
    ("teardown", "teardown"): {"id-token": "write", "contents": "read"},
    ("measure", "check"): {"contents": "read", "actions": "read"},
    ("measure", "measure"): {"id-token": "write", "contents": "read"},
}


def test_permissions_are_explicit_and_minimal():
    found = {}
    for path in WORKFLOW_FILES:
        workflow = yaml.safe_load(path.read_text())
        assert workflow["permissions"] == {"contents": "read"}, f"{path.name}: the default token is read-only"
        for name, job in workflow["jobs"].items():
            found[(path.stem, name)] = job.get("permissions")
    assert found == JOB_PERMISSIONS


GATE = "Every environment of these jobs requires a reviewer"
# The job that runs the gate, and the environment list it checks.
GATED = {
    "preview": ("stacks", "preview"),
    "deploy": ("stacks", "${{ join(fromJSON(steps.stacks.outputs.matrix).stack, ' ') }}"),
    "teardown": ("confirm", "${{ inputs.stack }}"),
    "measure": ("check", "${{ inputs.stack }}"),
}


def gate_script(name: str) -> str:
    return step(load(name), GATED[name][0], GATE)["run"]


def test_the_reviewer_gate_covers_every_environment_and_runs_before_any_sign_in():
    assert gate_script("preview") == gate_script("deploy") == gate_script("teardown") == gate_script("measure")
    for name, (gate_job, environments) in GATED.items():
        workflow = load(name)
        gate = step(workflow, gate_job, GATE)
        assert gate["env"] == {"GH_TOKEN": "${{ github.token }}", "ENVIRONMENTS": environments}
        # Last in its job: after the step that validates the stack names it splits on spaces.
        assert steps(workflow, gate_job)[-1] == gate
        for job_name, job in workflow["jobs"].items():
            if "environment" not in job:
                continue
            needs = job["needs"] if isinstance(job["needs"], list) else [job["needs"]]
            assert gate_job in needs, (name, job_name)
            # Every environment a job can run in is one the gate checked.
            if job["environment"] == "${{ matrix.stack }}":
                assert "steps.stacks.outputs.matrix" in environments
                assert job["strategy"]["matrix"].startswith("${{ fromJSON(needs.stacks.outputs.")
            else:
                assert job["environment"] == environments, (name, job_name)


def run_gate(tmp_path: Path, environments: dict[str, dict | None]) -> tuple[subprocess.CompletedProcess, list[str]]:
    """The gate step against a `gh` stub: a dict is the environment's API answer, None a 404."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, answer in environments.items():
        if answer is not None:
            (tmp_path / f"{name}.json").write_text(json.dumps(answer))
    stub = bin_dir / "gh"
    stub.write_text(
        '#!/usr/bin/env bash\necho "$*" >> "$GH_LOG"\nanswer="$ANSWERS/${2##*/}.json"\n'
        'if [[ -f "$answer" ]]; then cat "$answer"; else echo "gh: Not Found (HTTP 404)" >&2; exit 1; fi\n'
    )
    stub.chmod(0o755)
    result = run_bash(
        gate_script("deploy"),
        tmp_path,
        {
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "ENVIRONMENTS": " ".join(environments),
            "GITHUB_REPOSITORY": "org/acr-streaming-ab",
            "RUNNER_TEMP": str(tmp_path),
            "ANSWERS": str(tmp_path),
            "GH_LOG": str(tmp_path / "gh.log"),
        },
    )
    return result, (tmp_path / "gh.log").read_text().splitlines()


REVIEWED = {"name": "dev", "protection_rules": [{"type": "wait_timer"}, {"type": "required_reviewers"}]}


def test_the_gate_passes_when_every_environment_has_required_reviewers(tmp_path):
    result, calls = run_gate(tmp_path, {"dev": REVIEWED, "registry": REVIEWED})
    assert result.returncode == 0, result.stdout + result.stderr
    assert calls == [
        "api repos/org/acr-streaming-ab/environments/dev",
        "api repos/org/acr-streaming-ab/environments/registry",
    ]


@pytest.mark.parametrize(
    "answer,message",
    [
        (None, "'teleport' does not exist or cannot be read"),
        ({"name": "teleport", "protection_rules": [{"type": "wait_timer"}]}, "'teleport' has no required reviewers"),
        ({"name": "teleport", "protection_rules": []}, "'teleport' has no required reviewers"),
        ({"name": "teleport"}, "'teleport' has no required reviewers"),
    ],
)
def test_the_gate_stops_the_run_when_an_environment_is_unprotected(tmp_path, answer, message):
    result, _ = run_gate(tmp_path, {"dev": REVIEWED, "teleport": answer})
    assert result.returncode != 0 and message in result.stdout
    assert "'dev'" not in result.stdout


def run_preview_select(tmp_path: Path, stderr: str, status: int) -> tuple[subprocess.CompletedProcess, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "pulumi"
    stub.write_text(f'#!/usr/bin/env bash\necho "$*" >> "$PULUMI_LOG"\necho {stderr!r} >&2\nexit {status}\n')
    stub.chmod(0o755)
    output = tmp_path / "github_output"
    output.write_text("")
    script = step(load("preview"), "preview", "Select the stack (a preview never creates one)")["run"]
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "STACK": "dev",
        "PULUMI_LOG": str(tmp_path / "log"),
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_OUTPUT": str(output),
    }
    result = run_bash(script, tmp_path, env)
    assert (tmp_path / "log").read_text() == "stack select dev\n"
    return result, output.read_text()


def test_a_preview_selects_an_existing_stack(tmp_path):
    result, output = run_preview_select(tmp_path, "", 0)
    assert result.returncode == 0 and output == "exists=true\n"
    preview = next(s for s in uses(load("preview"), "preview", "pulumi/actions") if "command" in s.get("with", {}))
    assert preview["if"] == "steps.select.outputs.exists == 'true'"


def test_a_preview_of_a_stack_not_yet_deployed_is_skipped_with_a_notice(tmp_path):
    result, output = run_preview_select(tmp_path, "error: no stack named 'dev' found", 255)
    assert result.returncode == 0 and output == "exists=false\n"
    assert "::notice::Pulumi.dev.yaml has no stack in the backend yet" in result.stdout


def test_a_preview_fails_on_any_other_select_error(tmp_path):
    result, output = run_preview_select(tmp_path, "error: failed to load checkpoint: 403 AuthorizationFailure", 255)
    assert result.returncode != 0 and "AuthorizationFailure" in result.stderr and output == ""


# --------------------------------------------------------------------------------------------------
# measure.yml: trials, then the report on the job summary
# --------------------------------------------------------------------------------------------------
MEASURE_CHECK = "An experiment stack, a reset, a trial count and a gate the CLI accepts"


def check_measure(tmp_path: Path, stack="dev", reset="purge", trials="5", fail_below="") -> subprocess.CompletedProcess:
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  acr-streaming-ab:location: westus3\n")
    (tmp_path / "Pulumi.registry.yaml").write_text("config:\n  acr-streaming-ab:role: registry\n")
    script = step(load("measure"), "check", MEASURE_CHECK)["run"]
    return run_bash(script, tmp_path, {"STACK": stack, "RESET": reset, "TRIALS": trials, "FAIL_BELOW": fail_below})


def test_measure_is_manual_for_one_experiment_stack():
    workflow = load("measure")
    assert set(triggers(workflow)) == {"workflow_dispatch"}
    inputs = triggers(workflow)["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"stack", "reset", "trials", "fail_below", "require_verified"}
    assert inputs["reset"]["options"] == ["purge", "recycle"] and inputs["reset"]["default"] == "purge"
    assert workflow["jobs"]["measure"]["needs"] == "check"
    assert step(workflow, "measure", "Select the stack (it must exist already)")["run"].strip() == (
        'pulumi stack select "$STACK"'
    )
    assert "--create" not in (WORKFLOWS / "measure.yml").read_text()


@pytest.mark.parametrize(
    "inputs",
    [{}, {"trials": "auto"}, {"trials": "50", "reset": "recycle"}, {"fail_below": "1.5"}, {"fail_below": "2"}],
)
def test_measure_check_accepts_what_the_cli_accepts(tmp_path, inputs):
    result = check_measure(tmp_path, **inputs)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("measure dev: reset ")


@pytest.mark.parametrize(
    "inputs,message",
    [
        ({"stack": "registry"}, "::error::registry is the shared registry stack: it has no pools to measure"),
        ({"stack": "prod"}, "::error::there is no Pulumi.prod.yaml in this commit"),
        ({"stack": "dev; rm -rf /"}, "is not a stack name these workflows accept"),
        ({"reset": "nuke"}, "::error::unknown reset 'nuke'; allowed: purge, recycle"),
        ({"trials": "0"}, "::error::trials '0' is not allowed; allowed: a whole number from 1 to 50, or auto"),
        ({"trials": "51"}, "trials '51' is not allowed"),
        ({"trials": "five"}, "trials 'five' is not allowed"),
        ({"fail_below": "0"}, "::error::fail_below '0' is not allowed; allowed: empty (no gate) or a number above 0"),
        ({"fail_below": "-1"}, "fail_below '-1' is not allowed"),
        ({"fail_below": "2x"}, "fail_below '2x' is not allowed"),
    ],
)
def test_measure_check_refuses_in_one_line_before_any_sign_in(tmp_path, inputs, message):
    result = check_measure(tmp_path, **inputs)
    assert result.returncode == 1 and message in result.stdout
    assert result.stdout.count("::error::") == 1


def _substituted(command: str, env: dict[str, str]) -> list[str]:
    """A step's one command as bash would split it, with its variables replaced."""
    import shlex

    for key, value in env.items():
        command = command.replace(f'"${key}"', shlex.quote(value))
    return shlex.split(command.replace("\\\n", " "))


def test_the_measure_step_runs_the_cli_with_flags_it_knows():
    from timing.cli import build_parser

    command = step(load("measure"), "measure", "Measure")["run"].strip()
    argv = _substituted(command, {"STACK": "dev", "RESET": "purge", "TRIALS": "auto"})
    assert argv[:3] == ["venv/bin/python", "-m", "timing"]
    args = build_parser().parse_args(argv[3:])
    assert (args.command, args.stack, args.reset, args.trials, args.results) == (
        "measure",
        "dev",
        "purge",
        "auto",
        "results",
    )


def test_kubelogin_uses_the_federated_token_the_stacks_kubeconfig_leaves_open():
    # components/cluster.py drops kubelogin's fixed --login so that AAD_LOGIN_METHOD chooses it.
    run = step(load("measure"), "measure", "kubelogin for a cluster with Entra ID only")["run"]
    assert 'echo "AAD_LOGIN_METHOD=workloadidentity" >> "$GITHUB_ENV"' in run
    assert "--kubelogin-install-location" in run and '>> "$GITHUB_PATH"' in run
    names = [s.get("name") for s in steps(load("measure"), "measure")]
    assert names.index("Keep a fresh federated token for azidentity") < names.index("Measure")


def _report_step(tmp_path: Path, results: Path | None, **env: str) -> tuple[subprocess.CompletedProcess, Path]:
    """The report step as the runner would run it, with `venv/bin/python` this interpreter."""
    work = tmp_path / "work"
    (work / "venv" / "bin").mkdir(parents=True)
    shim = work / "venv" / "bin" / "python"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    shim.chmod(0o755)
    if results is not None:
        shutil.copytree(results, work / "results")
    summary = tmp_path / "step_summary.md"
    script = step(load("measure"), "measure", "Report to the job summary")["run"]
    variables = {"FAIL_BELOW": "", "REQUIRE_VERIFIED": "false", **env}
    result = run_bash(script, work, {"GITHUB_STEP_SUMMARY": str(summary), "PYTHONPATH": str(ROOT), **variables})
    return result, summary


def test_the_report_step_writes_the_markdown_summary_and_the_artifact_files(tmp_path):
    from offline.timing_dumps import write_results

    folder = write_results(tmp_path / "results", [(40, 6), (44, 7), (38, 6)])
    result, summary = _report_step(tmp_path, folder)
    assert result.returncode == 0, result.stderr
    assert summary.read_text().startswith("## ACR artifact streaming A/B")
    assert "vote" in summary.read_text()
    work = tmp_path / "work"
    assert json.loads((work / "report.json").read_text())["schema"] == "streaming-ab/timing-report@3"
    assert (work / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert (work / "report.csv").read_text().strip()
    upload = next(iter(uses(load("measure"), "measure", "actions/upload-artifact")))
    kept = upload["with"]["path"].split()
    assert {"results/", "report.html", "report.json", "report.csv"} == set(kept)


def test_the_report_step_fails_the_job_on_a_gate_and_says_why_in_the_summary(tmp_path):
    from offline.timing_dumps import write_results

    folder = write_results(tmp_path / "results", [(40, 6), (44, 7), (38, 6)])
    result, summary = _report_step(tmp_path, folder, REQUIRE_VERIFIED="true")
    assert result.returncode == 3, result.stderr  # constructed dumps carry no node evidence: not verified
    assert "**CI gate failed:**" in summary.read_text()


def test_the_report_step_without_results_warns_and_passes(tmp_path):
    result, summary = _report_step(tmp_path, None)
    assert result.returncode == 0 and "::warning::measure wrote no results folder" in result.stdout
    assert not summary.exists()
