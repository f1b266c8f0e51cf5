"""One rule for counts (replicas, pods per node) in the terminal table, the HTML page and the Markdown summary."""

import re

from rich.console import Console

from timing.rendering.html import render_html
from timing.rendering.markdown import render_markdown
from timing.rendering.numbers import count_text
from timing.rendering.table import comparison_tables


def test_a_count_reads_with_at_most_two_decimals():
    assert [count_text(v) for v in (50 / 7, 2.5, 10.0, 2, 0.0, 1234.5)] == ["7.14", "2.5", "10", "2", "0", "1234.5"]


def test_pods_per_node_read_the_same_in_every_output(make_report):
    report = make_report()
    report["comparisons"][0]["pods_per_node"] = {"baseline": 50 / 7, "streaming": 2.5}
    report["comparisons"][0]["replicas"] = {"baseline": 50.0, "streaming": 7.5}
    console = Console(record=True, width=200)
    for table in comparison_tables(report):
        console.print(table)
    terminal = console.export_text()
    assert re.search(r"\s50/7\.5\s+7\.14/2\.5\s", terminal)
    assert "standard 7.14, streaming 2.5" in render_markdown(report)
    assert "standard 7.14, streaming 2.5" in render_html(report)
    assert "standard 50, streaming 7.5" in render_markdown(report) and "7.14286" not in render_html(report)


def test_a_speed_up_keeps_two_significant_digits_below_10x_in_report_and_compare():
    from timing.rendering.compare import ratio_words
    from timing.rendering.forest import speedup_words
    from timing.rendering.numbers import ratio_text

    assert [ratio_text(v) for v in (0.274, 0.0512, 1.06, 4.23, 9.96, 21.34)] == [
        "0.27",
        "0.051",
        "1.1",
        "4.2",
        "10.0",
        "21.3",
    ]
    sp = {"estimate": 0.274, "ci95": [0.199, 0.379], "n_trials": 5}
    assert speedup_words(sp) == "0.27x [0.20 to 0.38], n=5"
    assert ratio_words({"ratio": 0.274, "ci95": [0.199, 0.379]}) == "0.27x [0.20 to 0.38]"
