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
