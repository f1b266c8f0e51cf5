"""Computed outputs the mocks return per resource type / invoke token, one module per area.

Each module in this package registers functions with `resource_fake(type_token)` or
`call_fake(token)`; `offline/harness.py` imports them all. A fake receives the declared inputs
and returns only what Azure or Kubernetes would compute (ids, login servers, identities, digests);
the inputs themselves are echoed back by the harness.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

ResourceFake = Callable[[str, dict[str, Any]], dict[str, Any]]
CallFake = Callable[[dict[str, Any]], dict[str, Any]]

RESOURCE_FAKES: dict[str, ResourceFake] = {}
CALL_FAKES: dict[str, CallFake] = {}


def resource_fake(type_token: str) -> Callable[[ResourceFake], ResourceFake]:
    def register(fn: ResourceFake) -> ResourceFake:
        RESOURCE_FAKES[type_token] = fn
        return fn

    return register


def call_fake(token: str) -> Callable[[CallFake], CallFake]:
    def register(fn: CallFake) -> CallFake:
        CALL_FAKES[token] = fn
        return fn

    return register


def load_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
