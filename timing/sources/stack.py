"""A Pulumi stack of this project, as ``timing`` reads it: outputs, kubeconfig, config, ``pulumi up``.

The Automation API (and so the Pulumi CLI) is imported only when a stack is named: offline paths
never need Pulumi.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

from contract import PROJECT
from timing.errors import TimingError, first_line

# The checkout this module was imported from; an installed copy (site-packages) has no Pulumi.yaml there.
SOURCE_ROOT = Path(__file__).resolve().parents[2]
CACHE_GENERATION_KEY = "acr-streaming-ab:cacheGeneration"
PULUMI_MISSING = "needs the Pulumi CLI on PATH (https://www.pulumi.com/docs/install/)"
AUTOMATION_MISSING = (
    "needs the Pulumi Automation API: from the project's folder, pipx install --force '.[stack]'"
    " (or pip install '.[stack]'), or run venv/bin/python -m timing there"
)


def _automation():
    """``pulumi.automation``, which an install without the ``stack`` extra lacks: one line saying so."""
    try:
        from pulumi import automation
    except ImportError:
        raise TimingError(f"--stack {AUTOMATION_MISSING}") from None
    return automation


def _is_project(folder: Path) -> bool:
    try:
        declared = yaml.safe_load((folder / "Pulumi.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(declared, dict) and declared.get("name") == PROJECT


def project_dir(start: Path | None = None) -> Path:
    """The folder of this project's Pulumi.yaml: the current folder or one above it, as ``pulumi`` finds it,
    else the checkout ``timing`` runs from; an installed copy run elsewhere gets one line saying where to run."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents, SOURCE_ROOT):
        if _is_project(folder):
            return folder
    raise TimingError(
        f"--stack needs the {PROJECT} project: no Pulumi.yaml named {PROJECT!r} in {here} or a folder above it;"
        " run from the project's folder (the one with Pulumi.yaml)"
    )


def read_outputs(stack_name: str, work_dir: Path | None = None) -> dict:
    """The stack's outputs as the Automation API returns them (``OutputValue``s)."""
    stack = _automation().select_stack(stack_name=stack_name, work_dir=str(work_dir or project_dir()))
    return dict(stack.outputs())


def stack_kubeconfig(stack_name: str, work_dir: Path | None = None) -> str:
    outputs = read_outputs(stack_name, work_dir)
    if "kubeconfig" not in outputs:
        raise KeyError(f"stack {stack_name!r} has no 'kubeconfig' output")
    return outputs["kubeconfig"].value


@functools.cache
def stack_outputs(stack_name: str) -> dict:
    """The stack's output values, read once per run; a failure is one line naming ``--stack``."""
    try:
        return {k: v.value for k, v in read_outputs(stack_name).items()}
    except TimingError:
        raise
    except FileNotFoundError:
        raise TimingError(f"--stack {PULUMI_MISSING}") from None
    except Exception as error:  # noqa: BLE001 - the Automation API raises CommandError with the CLI's text
        raise TimingError(f"--stack {stack_name}: reading its outputs failed: {first_line(error)}") from error


def stack_evidence(stack_name: str) -> tuple[dict, dict]:
    """The pools' streaming flag read back from ARM now, and the images' artifacts as the stack recorded them.

    The outputs are read once per run (`stack_outputs` is cached); the ARM flags on every call.
    """
    from timing.sources.azure import read_pool_streaming, streaming_artifacts_from_outputs

    outputs = stack_outputs(stack_name)
    pools = list((outputs.get("pools") or {}).keys())
    pool_streaming: dict = {}
    if outputs.get("clusterId") and pools:
        try:
            pool_streaming = read_pool_streaming(outputs["clusterId"], pools)
        except Exception as exc:  # noqa: BLE001 - credential errors come in many types; the flag stays unknown
            print(
                f"note: pool flags not read back from ARM ({first_line(exc)}); streaming stays unverified",
                file=sys.stderr,
            )
    return pool_streaming, streaming_artifacts_from_outputs(outputs.get("images"))


class PulumiStack:
    """``cacheGeneration`` config and ``pulumi up`` through the Automation API (``--reset recycle``)."""

    def __init__(self, stack_name: str, work_dir: Path | None = None):
        self._auto = _automation()
        self.stack = self._auto.select_stack(stack_name=stack_name, work_dir=str(work_dir or project_dir()))

    def get_generation(self) -> int:
        try:
            value = self.stack.get_config(CACHE_GENERATION_KEY).value
        except self._auto.CommandError:
            return 0  # key not set yet: the component's default generation
        return int(value)

    def set_generation(self, value: int) -> None:
        self.stack.set_config(CACHE_GENERATION_KEY, self._auto.ConfigValue(value=str(value)))

    def up(self, on_output: Callable[[str], None]) -> None:
        self.stack.up(on_output=on_output)
