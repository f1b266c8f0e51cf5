"""Read a ``kubectl get ... -o json`` dump one item at a time.

Design notes: docs/timing.md ("timing/sources/dumpfile.py").
"""

from __future__ import annotations

import mmap
import os
import re
import stat
import sys
from collections.abc import Generator

import orjson

from timing.errors import first_line

_ITEMS_ARRAY = re.compile(rb'"items"[ \t\r\n]*:[ \t\r\n]*\[[ \t\r\n]*')
_AFTER_ELEMENT = re.compile(rb"[ \t\r\n]*([,\]])[ \t\r\n]*")
_HEAD_BYTES = 1 << 16
MAX_DUMP_BYTES = 2 << 30  # 2 GiB: ten times the largest dump a 10 000-pod experiment writes
STDIN = "-"


class NotRegularFile(OSError):
    """A FIFO, a device (``/dev/zero``) or a socket: reading it could block or never end."""


class TooLarge(OSError):
    """More than MAX_DUMP_BYTES."""


def _read_stdin(limit: int) -> bytes:
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"standard input holds more than {limit} bytes")
    return data


# Pages of the mapped file already read are handed back every this many bytes: they stay in the
# page cache, but no longer count to the process (a 900 MB dump would otherwise be resident whole).
_RELEASE_BYTES = 64 << 20


class DumpFile:
    """A dump file's bytes (or standard input's, for ``-``), mapped when possible; a context manager.

    Only regular files are opened: the type is checked before ``open``, which on a FIFO would block.
    """

    def __init__(self, path, limit: int | None = None):
        limit = MAX_DUMP_BYTES if limit is None else limit
        self._map: mmap.mmap | None = None
        self.data: bytes | mmap.mmap
        if str(path) == STDIN:
            self._fh = None
            self.data = _read_stdin(limit)
            return
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(path)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(f"{path} is not a regular file")
        if st.st_size > limit:
            raise TooLarge(f"{path} holds {st.st_size} bytes, more than {limit}")
        self._fh = open(path, "rb")  # noqa: SIM115 - the object is the context manager
        try:
            st = os.fstat(self._fh.fileno())
            if st.st_size > 0:
                # Parsing from the page cache skips copying the file into a
                # bytes object first.  Pipes and empty files cannot be mapped.
                try:
                    self._map = mmap.mmap(self._fh.fileno(), 0, access=mmap.ACCESS_READ)
                except (OSError, ValueError):
                    self._map = None
            self.data = self._map if self._map is not None else self._fh.read(limit + 1)
            if len(self.data) > limit:
                raise TooLarge(f"{path} holds more than {limit} bytes")
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self.data = b""
        if self._map is not None:
            self._map.close()
            self._map = None
        if self._fh is not None:
            self._fh.close()

    def __enter__(self) -> DumpFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def parse(self):
        """The whole document, exactly as ``orjson.loads`` of the file; YAML (``kubectl -o yaml``) when it
        does not start like JSON."""
        with memoryview(self.data) as view:
            head = bytes(view[:_HEAD_BYTES]).lstrip()
            if head[:1] not in (b"{", b"[", b""):
                return _parse_yaml(view)
            return orjson.loads(view)

    def release(self, upto: int) -> None:
        """Drop this process's pages of the mapped file below ``upto`` (no-op when the file was read)."""
        if self._map is None or not hasattr(mmap, "MADV_DONTNEED"):
            return
        length = upto - upto % mmap.PAGESIZE
        if length > 0:
            self._map.madvise(mmap.MADV_DONTNEED, 0, length)

    def split_items(self) -> Generator[dict, None, None] | None:
        """The ``items`` of a List document parsed one by one, or ``None`` when
        the layout is not the indented one described in docs/timing.md ("timing/sources/dumpfile.py").

        The returned iterator raises ``orjson.JSONDecodeError`` if a piece is
        not one element; the caller must then fall back to ``parse``.
        """
        spans = _item_spans(self.data, self.release)
        if spans is None:
            return None
        return self._iter_spans(spans)

    def _iter_spans(self, spans: list[tuple[int, int]]) -> Generator[dict, None, None]:
        released = 0
        with memoryview(self.data) as view:
            for start, end in spans:
                if start - released >= _RELEASE_BYTES:
                    self.release(start)
                    released = start
                yield orjson.loads(view[start:end])


def _parse_yaml(view):
    """kubectl's YAML, with timestamps kept as the strings JSON would carry (PyYAML's C loader)."""
    import yaml

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        pass

    # PyYAML turns unquoted timestamps into datetime; the model reads RFC 3339 text.
    Loader.yaml_implicit_resolvers = {
        key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    try:
        return yaml.load(bytes(view), Loader=Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise orjson.JSONDecodeError(f"neither JSON nor YAML ({first_line(error)})", "", 0) from None


def _separators(data, needle: bytes, first: int, release) -> list[int]:
    """Offsets of ``needle`` from ``first`` on, read window by window, each window released after."""
    pattern = re.compile(re.escape(needle))
    found: list[int] = []
    start = first
    while start < len(data):
        stop = min(len(data), start + _RELEASE_BYTES)
        # A match may straddle the window's end: search up to len(needle) - 1 bytes beyond it.
        found += [m.start() for m in pattern.finditer(data, start, min(len(data), stop + len(needle) - 1))]
        if found and found[-1] >= stop:
            stop = found[-1] + 1
        release(stop)
        start = stop
    return found


def _item_spans(data, release=lambda upto: None) -> list[tuple[int, int]] | None:
    # kubectl writes "items" second, after "apiVersion"; a List whose items
    # come after a lot of other text is simply parsed whole.
    m = _ITEMS_ARRAY.search(data, 0, _HEAD_BYTES)
    if m is None:
        return None
    bracket = data.rfind(b"[", 0, m.end())
    # Cheap early exit before scanning the file: "items" must be a key of the
    # top-level object, i.e. the text before the array closes into an object.
    try:
        head = orjson.loads(bytes(data[:bracket]) + b"null}")
    except orjson.JSONDecodeError:
        return None
    if type(head) is not dict:
        return None
    first = m.end()
    if data[first : first + 1] != b"{":
        return None  # empty List, or elements that are not objects
    line_start = data.rfind(b"\n", 0, first) + 1
    indent = bytes(data[line_start:first])
    if line_start == 0 or indent.strip(b" \t"):
        return None  # the first element does not start its own line
    # Between two elements kubectl and json.dumps(indent=...) write "}",
    # ",", a newline and the indentation before the next "{".  A regular
    # expression finds that needle faster than bytes.find here (indentation
    # spaces defeat find's skip table).  Any other spacing makes a piece span
    # two elements, which cannot parse, and the file is then read whole.
    between = b"},\n" + indent + b"{"
    seps = _separators(data, between, first, release)
    # Element i ends just after the "}" of separator i; the next starts at its "{".
    starts = [first]
    starts += [p + len(between) - 1 for p in seps]
    ends = [p + 1 for p in seps]
    closer = b"\n" + indent + b"}"
    end = data.find(closer, starts[-1])
    if end < 0:
        return None
    ends.append(end + len(closer))
    tail = _AFTER_ELEMENT.match(data, ends[-1])
    if tail is None or tail.group(1) != b"]":
        return None
    close = tail.start(1)
    # The rest of the document, with a placeholder no dump can contain where
    # the array was: it must parse, and its top-level "items" must be the
    # placeholder, or this array is not the List's items.
    placeholder = f"timing-split-{os.urandom(16).hex()}"
    outside = bytes(data[:bracket]) + orjson.dumps(placeholder) + bytes(data[close + 1 :])
    try:
        doc = orjson.loads(outside)
    except orjson.JSONDecodeError:
        return None
    if type(doc) is not dict or doc.get("items") != placeholder:
        return None
    return list(zip(starts, ends, strict=False))
