"""What every config model shares: strict frozen models, derived fields, and the problem list."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic.fields import FieldInfo

from stackconfig.errors import Path, key_of, problems

Problems = list[tuple[Path, str]]


def raise_if(found: Problems) -> None:
    if found:
        raise problems(found)


def is_derived(field: FieldInfo) -> bool:
    """Resolved by a validator from other keys; never read from a stack file."""
    extra = field.json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("derived"))


class ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)

    @model_validator(mode="before")
    @classmethod
    def _no_derived_keys(cls, data: Any) -> Any:
        # Derived fields are resolved by the model validators; a stack file may not set them.
        if isinstance(data, dict):
            derived = [n for n, fi in cls.model_fields.items() if is_derived(fi)]
            found = [((key,), "unknown key") for key in derived if key in data]
            raise_if(found)
        return data


def check_unique(found: Problems, seen: dict[str, str], value: str, path: Path, what: str) -> None:
    if value in seen:
        found.append((path, f"duplicate {what} {value!r} (also at {seen[value]}); allowed: each {what} once"))
    else:
        seen[value] = key_of(path)
