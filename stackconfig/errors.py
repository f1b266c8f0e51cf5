"""One error for every configuration mistake: all problems at once, each naming its full key."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import pulumi
import pydantic
from pydantic_core import PydanticCustomError

from contract import PROJECT

# Error types raised by this package's validators; their message is already the final text.
FIELD_PROBLEM = "stack_config"
MODEL_PROBLEMS = "stack_config_problems"

Path = tuple[Any, ...]


class ConfigError(pulumi.RunError):
    """All configuration problems of a stack, one per line; raised before any resource exists.

    A RunError makes `pulumi up`/`preview` print just this message instead of a Python traceback.
    """

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "invalid stack configuration (nothing was declared):\n" + "\n".join(f"  - {p}" for p in problems)
        )


def problem(message: str) -> PydanticCustomError:
    """A single-field problem; the key path is added from where pydantic found it."""
    return PydanticCustomError(FIELD_PROBLEM, "{message}", {"message": message})


def problems(found: Sequence[tuple[Path, str]]) -> PydanticCustomError:
    """Cross-field problems of one model, each with its path relative to that model."""
    return PydanticCustomError(MODEL_PROBLEMS, "{count} problems", {"count": len(found), "problems": list(found)})


# pydantic marks a problem with a mapping's key (not its value) by appending this to the key.
_MAPPING_KEY = "[key]"
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def key_of(loc: Path) -> str:
    """`("images", 1, "source")` -> `acr-streaming-ab:images[1].source`; a mapping key -> `env["1A"]`."""
    out = PROJECT + ":"
    parts = [p for p in loc if p != _MAPPING_KEY]
    mapping_keys = {i - 1 - loc[:i].count(_MAPPING_KEY) for i, p in enumerate(loc) if p == _MAPPING_KEY}
    for i, part in enumerate(parts):
        if isinstance(part, int):
            out += f"[{part}]"
        elif i in mapping_keys or not _PLAIN_KEY.fullmatch(str(part)):
            out += f"[{json.dumps(str(part))}]"
        else:
            out += ("" if i == 0 else ".") + str(part)
    return out


def _clean(loc: Path) -> Path:
    # Union and validator branches add their own names to pydantic's locations; keys never contain them.
    return tuple(
        p
        for p in loc
        if not (
            isinstance(p, str)
            and (
                p.startswith(("function-", "literal["))
                or p in ("str", "int", "bool", "list[str]", "dict[str,str]", "none", "nullable")
            )
        )
    )


def problems_of(error: pydantic.ValidationError) -> list[str]:
    out: list[str] = []
    for err in error.errors(include_url=False):
        loc = _clean(err["loc"])
        kind = err["type"]
        if kind == MODEL_PROBLEMS:
            out.extend(f"{key_of(loc + tuple(sub))}: {message}" for sub, message in err["ctx"]["problems"])
        elif kind == FIELD_PROBLEM:
            out.append(f"{key_of(loc)}: {err['ctx']['message']}")
        elif kind == "extra_forbidden":
            parent = key_of(loc[:-1]) if len(loc) > 1 else PROJECT
            out.append(f"{key_of(loc)}: unknown key under {parent}")
        elif kind == "missing":
            out.append(f"{key_of(loc)}: required key is missing")
        else:
            got = json.dumps(err.get("input"), default=str)[:80]
            # Stack files write lists; the model keeps them as (frozen) tuples.
            message = err["msg"].replace("valid tuple", "valid list")
            out.append(f"{key_of(loc)}: {message} (got {got})")
    return out
