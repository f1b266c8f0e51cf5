"""The pickled providers load and answer in the real dynamic provider host, started as the engine starts it.

Design notes: docs/verification.md ("tests/providers/test_provider_host.py").
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from tests.providers.scenarios.contracts import (
    NAMES,
    OTHER_TENANT,
    PROVIDER_KEY,
    SPECS,
    created,
    serialized_provider,
)

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0
CALL_TIMEOUT = 20.0
URN = "urn:pulumi:dev::acr-streaming-ab::{type}::contract"


def host_command_and_env() -> tuple[list[str], dict[str, str]]:
    """The command and environment pulumi-resource-pulumi-python ends up running for this project."""
    runtime = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["runtime"]
    options = runtime.get("options") or {}
    venv = Path(options["virtualenv"])
    python = venv if venv.is_absolute() else ROOT / venv
    python = python / "bin" / "python"
    if not python.exists():  # a checkout whose venv lives elsewhere: the interpreter running the tests
        python = Path(sys.executable)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSAFEPATH")}
    env.update({f"PULUMI_RUNTIME_{k.upper()}": str(v) for k, v in options.items()})
    env.update({"PULUMI_PROJECT": "acr-streaming-ab", "PULUMI_CONFIG": "{}"})
    # Nothing on sys.path but what `-m` adds (the working directory) and the venv's site-packages.
    # The last argument stands for the engine address the engine passes (the host does not use it).
    return [str(python), "-u", "-m", "pulumi.dynamic", "127.0.0.1:1"], env


class Host:
    def __init__(self, cwd: Path):
        command, env = host_command_and_env()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the host
        self.process = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr
        )
        self.channel = None
        try:
            ready, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT)
            line = self.process.stdout.readline() if ready else b""
            if not line.strip().isdigit():
                raise RuntimeError(
                    f"the provider host printed no port within {START_TIMEOUT:g} s "
                    f"(got {line!r}); stderr: {self.stderr()}"
                )
            self.channel = grpc.insecure_channel(f"127.0.0.1:{int(line)}")
            grpc.channel_ready_future(self.channel).result(timeout=START_TIMEOUT)
            self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
        except BaseException:
            self.close()
            raise

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-4000:]

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(timeout=10)
        finally:
            self.process.stdout.close()
            self._stderr.close()

    # The two calls a preview makes -------------------------------------------------------------------
    def diff(self, type_token: str, olds: dict[str, Any], news: dict[str, Any]) -> provider_pb2.DiffResponse:
        return self.stub.Diff(
            provider_pb2.DiffRequest(
                id="contract-id", urn=URN.format(type=type_token), olds=struct(olds), news=struct(news)
            ),
            timeout=CALL_TIMEOUT,
        )

    def check(self, type_token: str, olds: dict[str, Any], news: dict[str, Any]) -> provider_pb2.CheckResponse:
        return self.stub.Check(
            provider_pb2.CheckRequest(urn=URN.format(type=type_token), olds=struct(olds), news=struct(news)),
            timeout=CALL_TIMEOUT,
        )


def struct(props: dict[str, Any]) -> struct_pb2.Struct:
    """Properties as the engine sends them: JSON-like values, `rpc.UNKNOWN` for what a preview lacks."""
    value = struct_pb2.Struct()
    value.update({k: v for k, v in props.items() if v is not None})
    return value


@pytest.fixture(scope="module")
def host() -> Iterator[Host]:
    running = Host(ROOT)
    try:
        # The engine configures the provider first; the host answers that it takes no secrets, so the
        # engine sends every secret (the pickled provider included) as its plain value.
        configured = running.stub.Configure(
            provider_pb2.ConfigureRequest(args=struct_pb2.Struct()), timeout=CALL_TIMEOUT
        )
        assert configured.acceptSecrets is False
        yield running
    finally:
        running.close()


def state(name: str) -> dict[str, Any]:
    """The state after a (replayed) create, with the pickled provider: the engine's `olds`."""
    result, _ = created(SPECS[name])
    return {**result.outs, PROVIDER_KEY: serialized_provider(SPECS[name])}


def inputs(name: str, **overrides: Any) -> dict[str, Any]:
    spec = SPECS[name]
    return {**spec.inputs, **overrides, PROVIDER_KEY: serialized_provider(spec)}


NONE, SOME = provider_pb2.DiffResponse.DIFF_NONE, provider_pb2.DiffResponse.DIFF_SOME


def _diff_or_fail(host: Host, name: str, news: dict[str, Any]) -> provider_pb2.DiffResponse:
    try:
        return host.diff(SPECS[name].type_token, state(name), news)
    except grpc.RpcError as error:
        pytest.fail(f"the provider host failed Diff for {name}:\n{error.details()}\nstderr: {host.stderr()}")


@pytest.mark.parametrize("name", NAMES)
def test_diff_in_the_host(host, name):
    spec = SPECS[name]
    # Only the limit changed: nothing to do (__provider and timeoutMinutes are not compared).
    same = _diff_or_fail(host, name, inputs(name, timeoutMinutes=spec.inputs["timeoutMinutes"] + 15))
    assert same.changes == NONE and list(same.replaces) == []
    # A new tenant only changes who calls: in-place update.
    tenant = _diff_or_fail(host, name, inputs(name, tenantId=OTHER_TENANT))
    assert tenant.changes == SOME and list(tenant.replaces) == []
    # Another Azure object: replacement.
    other = _diff_or_fail(host, name, inputs(name, **spec.identity_change))
    assert other.changes == SOME and set(spec.identity_change) <= set(other.replaces)
    # Preview with a value computed upstream (e.g. a digest): a replacement, not an error.
    for key in spec.upstream:
        unknown = _diff_or_fail(host, name, inputs(name, **{key: rpc.UNKNOWN}))
        assert unknown.changes == SOME and key in unknown.replaces, key


@pytest.mark.parametrize("name", NAMES)
def test_check_in_the_host_keeps_unknowns_and_the_provider(host, name):
    spec = SPECS[name]
    key = spec.upstream[-1]
    try:
        checked = host.check(spec.type_token, state(name), inputs(name, **{key: rpc.UNKNOWN}))
    except grpc.RpcError as error:
        pytest.fail(f"the provider host failed Check for {name}:\n{error.details()}\nstderr: {host.stderr()}")
    assert list(checked.failures) == []
    returned = dict(checked.inputs)
    assert returned[key] == rpc.UNKNOWN
    assert returned[PROVIDER_KEY] == serialized_provider(spec)
    assert returned["timeoutMinutes"] == float(spec.inputs["timeoutMinutes"])


def test_token_credentials_check_in_the_host_rejects_an_unknown_password_name(host):
    checked = host.check(SPECS["TokenCredentials"].type_token, {}, inputs("TokenCredentials", passwordName="password3"))
    assert [(f.property, "password1, password2" in f.reason) for f in checked.failures] == [("passwordName", True)]


def test_the_pickles_need_the_project_directory_as_working_directory(tmp_path):
    """The negative control: started anywhere else, the host cannot import `providers` (so the test
    above really depends on the engine's cwd, not on some path the test process set up)."""
    elsewhere = Host(tmp_path)
    try:
        with pytest.raises(grpc.RpcError) as raised:
            elsewhere.diff(
                SPECS["StreamingArtifact"].type_token, state("StreamingArtifact"), inputs("StreamingArtifact")
            )
        assert raised.value.code() == grpc.StatusCode.UNKNOWN
        assert "No module named 'providers'" in raised.value.details()
    finally:
        elsewhere.close()
