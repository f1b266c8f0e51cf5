"""A Pulumi stack of this project, as ``timing`` reads it: outputs, kubeconfig, config, ``pulumi up``.

The Automation API (and so the Pulumi CLI) is imported only when a stack is named: offline paths
never need Pulumi.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path

from timing.errors import TimingError, first_line

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CACHE_GENERATION_KEY = "acr-streaming-ab:cacheGeneration"
PULUMI_MISSING = "needs the Pulumi CLI on PATH (https://www.pulumi.com/docs/install/)"


def read_outputs(stack_name: str, work_dir: Path | None = None) -> dict:
    """The stack's outputs as the Automation API returns them (``OutputValue``s)."""
    from pulumi import automation as auto

    stack = auto.select_stack(stack_name=stack_name, work_dir=str(work_dir or PROJECT_ROOT))
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
        from pulumi import automation as auto

        self._auto = auto
        self.stack = auto.select_stack(stack_name=stack_name, work_dir=str(work_dir or PROJECT_ROOT))

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
