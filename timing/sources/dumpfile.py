"""Read a ``kubectl get ... -o json`` dump a few items at a time.

Design notes: docs/timing.md ("timing/sources/dumpfile.py").
"""

from __future__ import annotations

import itertools
import mmap
import os
import re
import stat
import sys
from collections.abc import Generator, Iterator

import orjson

from timing.errors import first_line

_ITEMS_ARRAY = re.compile(rb'"items"[ \t\r\n]*:[ \t\r\n]*\[[ \t\r\n]*')
_AFTER_ELEMENT = re.compile(rb"[ \t\r\n]*([,\]])[ \t\r\n]*")
_HEAD_BYTES = 1 << 16
MAX_DUMP_BYTES = 2 << 30  # 2 GiB: ten times the largest dump a 10 000-pod experiment writes
STDIN = "-"
# The items are read and parsed this many bytes at a time: a few pods, a few dozen events.
_BLOCK_BYTES = 1 << 16
# Text without a separator past this size is no kubectl List (an object is at most ~1.5 MB in etcd).
_MAX_PIECE_BYTES = 64 << 20


class NotRegularFile(OSError):
    """A FIFO, a device (``/dev/zero``) or a socket: reading it could block or never end."""


class TooLarge(OSError):
    """More than MAX_DUMP_BYTES."""


class NotSplit(ValueError):
    """The items cannot be proven to be the List's: the caller parses the file whole instead."""


def _read_stdin(limit: int) -> bytes:
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"standard input holds more than {limit} bytes")
    return data


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
                # A whole parse reads the page cache through the mapping, without
                # copying the file into a bytes object first.  Pipes and empty files cannot be mapped.
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

    def split_items(self) -> Iterator[dict] | None:
        """The ``items`` of a List document parsed a few at a time, or ``None`` when
        the layout is not the indented one described in docs/timing.md ("timing/sources/dumpfile.py").

        The returned iterator raises ``NotSplit`` or ``orjson.JSONDecodeError`` when the text does not
        prove to be that layout; the caller must then fall back to ``parse``.
        """
        layout = _layout(self.data)
        if layout is None:
            return None
        first, between, closer, prefix = layout
        # Chained in C: no Python frame is resumed per item, only per piece.
        return itertools.chain.from_iterable(_pieces(self._blocks(first), between, closer, prefix))

    def _blocks(self, start: int) -> Iterator[bytes]:
        """The bytes from ``start`` to the end of what was mapped or read, a block at a time.  From a
        file they are read, not taken from the mapping: faulting in the mapped pages cost more."""
        end = len(self.data)
        if self._map is None:
            with memoryview(self.data) as view:
                for at in range(start, end, _BLOCK_BYTES):
                    yield bytes(view[at : min(end, at + _BLOCK_BYTES)])
            return
        assert self._fh is not None
        self._fh.seek(start)
        left = end - start
        while left > 0:
            block = self._fh.read(min(left, _BLOCK_BYTES))
            if not block:
                return
            left -= len(block)
            yield block


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


def _layout(data) -> tuple[int, bytes, bytes, bytes] | None:
    """Where the first element starts, the separator between two elements, the line that closes the
    last one and the text before the array; ``None`` for any layout other than the indented List."""
    # kubectl writes "items" second, after "apiVersion"; a List whose items
    # come after a lot of other text is simply parsed whole.
    m = _ITEMS_ARRAY.search(data, 0, _HEAD_BYTES)
    if m is None:
        return None
    bracket = data.rfind(b"[", 0, m.end())
    # "items" must be a key of the top-level object, i.e. the text before the array closes into an object.
    prefix = bytes(data[:bracket])
    try:
        head = orjson.loads(prefix + b"null}")
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
    # Between two elements kubectl and json.dumps(indent=...) write "}", ",", a newline and the
    # indentation before the next "{"; the last element ends with a line holding that indentation and "}".
    return first, b"},\n" + indent + b"{", b"\n" + indent + b"}", prefix


def _pieces(blocks: Iterator[bytes], between: bytes, closer: bytes, prefix: bytes) -> Generator[list[dict], None, None]:
    """The elements, parsed piece by piece: a piece is the text from an element's "{" to the "}" before
    the last separator read so far, parsed as an array."""
    piece = bytearray(b"[")
    for block in blocks:
        # A separator may straddle two blocks: search from len(between) - 1 bytes back.
        searched = max(1, len(piece) - len(between) + 1)
        piece += block
        cut = piece.rfind(between, searched)
        if cut < 0:
            if len(piece) > _MAX_PIECE_BYTES:
                raise NotSplit("no element separator in a long stretch of text")
            continue
        rest = piece[cut + len(between) - 1 :]  # from the next element's "{"
        del piece[cut + 1 :]
        piece += b"]"
        elements = orjson.loads(piece)
        if set(map(type, elements)) != {dict}:
            raise NotSplit("an element is not an object")
        yield elements
        piece = bytearray(b"[") + rest
    yield [_last(bytes(piece[1:]), closer, prefix)]


def _last(text: bytes, closer: bytes, prefix: bytes) -> dict:
    """The last element, from the text after the last separator; it must end the top-level ``items``."""
    end = text.find(closer)
    if end < 0:
        raise NotSplit("no line closes the last element")
    end += len(closer)
    tail = _AFTER_ELEMENT.match(text, end)
    if tail is None or tail.group(1) != b"]":
        raise NotSplit("the last element is not followed by the end of the array")
    # The rest of the document, with a placeholder no dump can contain where the array was: it must
    # parse, and its top-level "items" must be the placeholder, or this array is not the List's items.
    placeholder = f"timing-split-{os.urandom(16).hex()}"
    doc = orjson.loads(prefix + orjson.dumps(placeholder) + text[tail.start(1) + 1 :])
    if type(doc) is not dict or doc.get("items") != placeholder:
        raise NotSplit("the array is not the top-level items")
    return orjson.loads(text[:end])
