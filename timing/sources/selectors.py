"""Kubernetes label selectors, applied to offline dumps exactly as the API would.

Supported: ``k=v``, ``k==v``, ``k!=v``, ``k``, ``!k``, ``k in (a,b)``,
``k notin (a,b)``, comma-separated (AND).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_SET = re.compile(r"^(?P<key>[^\s!=(),]+)\s+(?P<op>in|notin)\s*\((?P<values>[^)]*)\)$")
_EQ = re.compile(r"^(?P<key>[^\s!=(),]+)\s*(?P<op>==|=|!=)\s*(?P<value>[^\s!=(),]*)$")
_EXISTS = re.compile(r"^(?P<neg>!?)\s*(?P<key>[^\s!=(),]+)$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op == "=":
            return present and labels[self.key] == self.values[0]
        if self.op == "!=":
            # As in the API server: a missing key satisfies "!=".
            return not present or labels[self.key] != self.values[0]
        if self.op == "in":
            return present and labels[self.key] in self.values
        if self.op == "notin":
            return not present or labels[self.key] not in self.values
        raise ValueError(self.op)


def _split_top_level(text: str) -> list:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced ')' in selector {text!r}")
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        raise ValueError(f"unbalanced '(' in selector {text!r}")
    parts.append(text[start:])
    return parts


@dataclass(frozen=True)
class Selector:
    text: str
    requirements: tuple[Requirement, ...]

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if not self.requirements:
            # The usual case (no --selector), asked once per pod of the dump.
            return True
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)


def parse_selector(text: str | None) -> Selector:
    """Parse a selector; an empty or ``None`` selector matches everything."""
    if text is None or not text.strip():
        return Selector(text or "", ())
    reqs = []
    for raw in _split_top_level(text):
        part = raw.strip()
        if not part:
            raise ValueError(f"empty requirement in selector {text!r}")
        m = _SET.match(part)
        if m:
            values = tuple(v.strip() for v in m.group("values").split(",") if v.strip())
            if not values:
                raise ValueError(f"empty value set in {part!r}")
            reqs.append(Requirement(m.group("key"), m.group("op"), values))
            continue
        m = _EQ.match(part)
        if m:
            op = "!=" if m.group("op") == "!=" else "="
            reqs.append(Requirement(m.group("key"), op, (m.group("value"),)))
            continue
        m = _EXISTS.match(part)
        if m:
            reqs.append(Requirement(m.group("key"), "!exists" if m.group("neg") else "exists"))
            continue
        raise ValueError(f"cannot parse selector requirement {part!r}")
    return Selector(text, tuple(reqs))


def combine(*selectors: str | None) -> str:
    """AND several selector strings into one (empty ones are dropped)."""
    return ",".join(s.strip() for s in selectors if s and s.strip())
