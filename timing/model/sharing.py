"""One object for each distinct value a dump repeats.

Design notes: docs/timing.md ("timing/model/sharing.py").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, overload

T = TypeVar("T")

# Keys made of these alone are equal only when their parts are identical in type and value
# (1 == 1.0 == True would let a label 1 stand for a label True): only such keys are shared.
_PLAIN = frozenset((str, bool, type(None)))
_LIMIT = 1 << 16


class Shared:
    """A table of shared values, emptied when it holds ``limit`` of them (a long-running process
    reading many dumps keeps no more)."""

    def __init__(self, limit: int = _LIMIT):
        self._table: dict = {}
        self._limit = limit

    def text(self, value: T) -> T:
        """The first str seen equal to ``value``; any other value is returned as it is."""
        if type(value) is not str:
            return value
        found = self._table.get(value)
        if found is None:
            found = self._store(value, value)
        return found

    @overload
    def one(self, key: tuple) -> tuple: ...

    @overload
    def one(self, key: tuple, make: Callable[[tuple], T]) -> T: ...

    def one(self, key, make=None):
        """``make(key)`` (without ``make``: the key), made once per distinct ``key`` of str, bool and
        None parts, and made every time for any other key.

        What is made is shared: it must never be changed afterwards."""
        if not _PLAIN.issuperset(map(type, key)):
            return key if make is None else make(key)
        found = self._table.get(key)
        if found is None:
            found = self._store(key, key if make is None else make(key))
        return found

    def _store(self, key, value):
        if len(self._table) >= self._limit:
            self._table.clear()
        self._table[key] = value
        return value
