"""`report --json`: the report's text, written a few thousand pods at a time, is orjson's text of it."""

import orjson
import pytest

from timing.cli import output


def _pod(i):
    return {"name": f"p-{i}", "ready_seconds": i / 3, "empty": {}, "none": [], "nested": {"a": [1, {"b": "é"}]}}


def _doc(order, pods):
    parts = {"schema": "x@3", "inputs": {"events_given": True}, "pods": [_pod(i) for i in range(pods)], "arms": {}}
    parts["comparisons"] = [{"speedup": None, "reasons": ["a\nb"]}]
    return {key: parts[key] for key in order}


@pytest.mark.parametrize(
    "order",
    [
        ("schema", "inputs", "pods", "arms", "comparisons"),  # as build_report orders it
        ("pods", "schema", "comparisons"),
        ("schema", "arms", "pods"),
        ("pods",),
    ],
)
@pytest.mark.parametrize("pods", [0, 1, 2, 3, 7])
@pytest.mark.parametrize("indent", [False, True])
def test_the_pieces_join_to_orjsons_text(monkeypatch, order, pods, indent):
    monkeypatch.setattr(output, "PODS_PER_PIECE", 2)
    doc = _doc(order, pods)
    pieces = list(output.json_pieces(doc, indent=indent))
    assert b"".join(pieces) == orjson.dumps(doc, option=orjson.OPT_INDENT_2 if indent else 0)
    # Past PODS_PER_PIECE pods: the head, the pods two at a time, the tail.
    assert len(pieces) == (1 if pods <= 2 else 2 + (pods + 1) // 2)


def test_stdout_is_written_a_piece_at_a_time(monkeypatch, capsysbinary):
    """Each piece is written before the next is made: the whole text is never in memory at once."""
    monkeypatch.setattr(output, "PODS_PER_PIECE", 2)
    made = []
    make = output.json_pieces

    def counted(doc, indent=False):
        for piece in make(doc, indent):
            made.append(piece)
            yield piece

    monkeypatch.setattr(output, "json_pieces", counted)
    made_when_written = []
    write = output._write_utf8
    monkeypatch.setattr(
        output, "_write_utf8", lambda pieces: write(p for p in pieces if not made_when_written.append(len(made)))
    )

    class Args:
        json, reference = "-", False

    output.show_report(Args, _doc(("schema", "pods"), 7))
    assert made_when_written == [1, 2, 3, 4, 5, 6, 6]  # head, four pieces of pods, tail; then the newline
    assert orjson.loads(capsysbinary.readouterr().out)["pods"][6]["name"] == "p-6"
