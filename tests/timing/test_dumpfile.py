"""Item-by-item reading of kubectl dumps gives exactly what parsing the file whole gives.

`timing.sources.dumpfile` splits an indented `{"items": [...]}` document into its elements to keep memory
low; any layout it cannot prove safe must fall back to a whole parse (split_items() -> None, or the
iterator raises), and a split that it does return must equal the whole document's items.
"""

from __future__ import annotations

import json

import orjson
import pytest

from tests.conftest import TIMING_FIXTURES
from timing.errors import UsageError
from timing.sources.dumpfile import DumpFile, NotSplit
from timing.sources.inputs import load_dumps

PODS = json.loads((TIMING_FIXTURES / "pods.json").read_text())


def layouts(doc: dict) -> dict[str, bytes]:
    indented = json.dumps(doc, indent=2)
    last = indented.rfind("},\n    {")
    return {
        "indent2": indented.encode(),
        "indent4": json.dumps(doc, indent=4).encode(),
        "tabs": json.dumps(doc, indent="\t").encode(),
        "compact": json.dumps(doc).encode(),
        "crlf": indented.replace("\n", "\r\n").encode(),
        "empty": json.dumps(dict(doc, items=[]), indent=2).encode(),
        "one-item": json.dumps(dict(doc, items=doc["items"][:1]), indent=2).encode(),
        "items-first": json.dumps({"items": doc["items"], "kind": "List"}, indent=2).encode(),
        "repeated-items-key": (indented[:-2] + ',\n  "items": []\n}').encode(),
        "nested-items-first": json.dumps({"metadata": {"items": [{"a": 1}]}, "items": doc["items"]}, indent=2).encode(),
        "odd-separator": (indented[:last] + "} ,\n    {" + indented[last + len("},\n    {") :]).encode(),
        "closer-inside-a-string": json.dumps(
            dict(doc, items=[{"a": "x\\n    },\\n    {"}, *doc["items"]]), indent=2
        ).encode(),
        "non-ascii": json.dumps(doc, indent=2, ensure_ascii=False).replace('"v1"', '"vé"', 1).encode(),
    }


@pytest.mark.parametrize("name", list(layouts(PODS)))
def test_split_equals_whole_parse(tmp_path, name):
    data = layouts(PODS)[name]
    path = tmp_path / f"{name}.json"
    path.write_bytes(data)
    whole = orjson.loads(data)
    expected = whole.get("items") if isinstance(whole, dict) else whole
    with DumpFile(path) as dump:
        items = dump.split_items()
        if items is None:
            return
        try:
            got = list(items)
        except (NotSplit, orjson.JSONDecodeError):
            return  # the caller parses the file whole
        assert got == expected


def test_the_kubectl_layout_is_actually_split(tmp_path):
    path = tmp_path / "pods.json"
    path.write_bytes(layouts(PODS)["indent4"])
    with DumpFile(path) as dump:
        items = dump.split_items()
        assert items is not None, "the indented kubectl layout should take the item-by-item path"
        assert len(list(items)) == len(PODS["items"])


@pytest.mark.parametrize("name", ["indent2", "indent4", "compact", "crlf", "odd-separator"])
def test_reports_do_not_depend_on_the_layout(tmp_path, name):
    reference = tmp_path / "reference.json"
    reference.write_text(json.dumps(PODS))
    variant = tmp_path / f"{name}.json"
    variant.write_bytes(layouts(PODS)[name])
    events = str(TIMING_FIXTURES / "events.json")
    want = load_dumps([str(reference)], [events])
    got = load_dumps([str(variant)], [events])
    assert got.pods == want.pods
    assert got.events == want.events


@pytest.mark.parametrize(
    "broken",
    [
        lambda s: s.replace('"kind": "Pod"', '"kind": Pod', 1),  # invalid inside an item
        lambda s: s[:-2] + ',\n  "x": }\n',  # invalid after the array
        lambda s: s + "x",  # trailing garbage
    ],
)
def test_broken_files_fail_like_a_whole_parse(tmp_path, broken):
    path = tmp_path / "broken.json"
    path.write_text(broken(json.dumps(PODS, indent=4)))
    with pytest.raises(orjson.JSONDecodeError) as whole:
        orjson.loads(path.read_bytes())
    # The same error as a whole-file parse, as one line naming the flag and the file.
    with pytest.raises(UsageError) as raised:
        load_dumps([str(path)], [])
    assert str(raised.value).startswith(f"--pods {path}: not JSON ({whole.value})")


@pytest.mark.parametrize("block", [64, 4096, 4096 * 3 + 1])
def test_the_file_is_read_block_by_block_and_the_items_stay_exact(tmp_path, monkeypatch, block):
    from timing.sources import dumpfile

    monkeypatch.setattr(dumpfile, "_BLOCK_BYTES", block)
    path = tmp_path / "pods.json"
    path.write_bytes(json.dumps(PODS, indent=4).encode())  # about 60 KB: many blocks, separators across edges
    reads = []
    with DumpFile(path) as f:
        real = f._fh.read
        monkeypatch.setattr(f._fh, "read", lambda n=-1: reads.append(n) or real(n))
        items = list(f.split_items())
    assert items == PODS["items"]
    assert len(reads) > path.stat().st_size // block // 2 and max(reads) <= block


@pytest.mark.parametrize(
    "name, tail",
    [
        ("repeated-items-key", lambda s: s[:-2] + ',\n    "items": []\n}'),
        ("no-closing-line", lambda s: s.replace("\n        }\n    ],", "}\n    ],")),
        ("not-an-object", lambda s: s.replace("},\n        {", "},\n        5,\n        {", 1)),
    ],
)
def test_a_layout_found_wrong_late_raises_and_the_loader_parses_whole(tmp_path, name, tail):
    text = tail(json.dumps(PODS, indent=4))
    path = tmp_path / f"{name}.json"
    path.write_text(text)
    with DumpFile(path) as dump, pytest.raises(NotSplit):
        list(dump.split_items())
    whole = orjson.loads(text)
    if all(isinstance(i, dict) for i in whole["items"]):
        assert load_dumps([str(path)], []).seen_pods == len(whole["items"])
    else:
        with pytest.raises(UsageError, match="are not objects"):
            load_dumps([str(path)], [])
