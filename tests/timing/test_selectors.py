import pytest

from timing.sources.selectors import combine, parse_selector

LABELS = {"streaming-ab/arm": "vote-standard", "streaming-ab/streaming": "false", "app": "web"}


@pytest.mark.parametrize(
    "sel, expected",
    [
        ("", True),
        ("streaming-ab/arm=vote-standard", True),
        ("streaming-ab/arm==vote-standard", True),
        ("streaming-ab/arm=vote-streaming", False),
        ("streaming-ab/arm!=vote-streaming", True),
        ("missing!=x", True),
        ("streaming-ab/arm", True),
        ("!streaming-ab/arm", False),
        ("!missing", True),
        ("missing", False),
        ("streaming-ab/arm in (vote-standard, vote-streaming)", True),
        ("streaming-ab/arm in (a,b)", False),
        ("streaming-ab/arm notin (a,b)", True),
        ("missing notin (a)", True),
        ("missing in (a)", False),
        ("app=web,streaming-ab/streaming=false", True),
        ("app=web, streaming-ab/streaming=true", False),
        ("streaming-ab/arm in (vote-standard,x),!missing,app", True),
    ],
)
def test_matches_like_the_api_server(sel, expected):
    assert parse_selector(sel).matches(LABELS) is expected


@pytest.mark.parametrize("sel", ["a in ()", "a in (b", "a)", "=b", "a,,b", "a in b"])
def test_rejects_malformed(sel):
    with pytest.raises(ValueError):
        parse_selector(sel)


def test_combine_drops_empty():
    assert combine("a=b", None, "", " c ") == "a=b,c"
