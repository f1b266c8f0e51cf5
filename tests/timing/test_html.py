"""The HTML page, rendered by a real headless Chromium (Debian's `chromium`); what the page says is read back.

Skipped only outside CI when Chromium is missing; with CI=true a missing browser fails (`.ci/run` installs it).
"""

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from timing.rendering.html import render_html, write_html

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium() -> str:
    """Debian's chromium; elsewhere (a hosted CI image) the Chromium-family browser on PATH."""
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    found = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true and no chromium: .ci/run installs it (apt-get install -y chromium)")
    pytest.skip("chromium is not installed (apt-get install -y chromium); CI=true makes this a failure")


def run_chromium(tmp_path: Path, *args: str) -> str:
    profile = tmp_path / "profile"
    out = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return out.stdout


class TextOf(HTMLParser):
    """The text a reader sees, one string per element (script and style left out)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("style", "script")

    def handle_endtag(self, tag):
        self.skip -= tag in ("style", "script")

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.parts.append(" ".join(data.split()))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, make_report):
    report = make_report()
    report["comparisons"][0]["verified"] = {"streaming": True, "cold": True, "reasons": [], "contradicted": []}
    report["trials"] = [
        {"id": "t-1", "index": 1, "started_at": "2026-11-03T09:00:00.000000Z", "flagged": True, "included": False,
         "verdict": "warm-up", "reasons": ["first trial after a deploy"],
         "node_facts": {"aks-art-0": {"zone": "westeurope-1", "vm_size": "Standard_D4ds_v5",
                                      "kubelet_version": "v1.33.2", "node_image_version": None}}},
        {"id": "t-2", "index": 2, "started_at": "2026-11-04T09:00:00.000000Z", "flagged": False},
    ]  # fmt: skip
    folder = tmp_path_factory.mktemp("html")
    page = folder / "report.html"
    assert write_html(report, str(page)) == 1
    dom = run_chromium(folder, "--dump-dom", page.as_uri())
    parser = TextOf()
    parser.feed(dom)
    sp = report["comparisons"][0]["speedup"]
    headline = f"{sp['estimate']:.1f}x [{sp['ci95'][0]:.1f} to {sp['ci95'][1]:.1f}], n=3"
    return {"source": page.read_text(), "dom": dom, "text": "\n".join(parser.parts), "folder": folder, "page": page,
            "headline": headline}  # fmt: skip


def test_the_rendered_page_says_the_headline_interval_replicas_and_verification(rendered):
    text = rendered["text"]
    assert "vote, pair v1" in text
    assert rendered["headline"].startswith("6.6x [")  # the geometric mean of 41/6, 45/7 and 39/6
    assert rendered["headline"] in text  # with its interval and n
    assert "standard 2, streaming 2" in text  # replicas
    assert "verified: streaming: yes, cold: yes" in text


def test_the_rendered_page_has_the_forest_plot_and_a_waterfall_per_trial(rendered):
    dom, text = rendered["dom"], rendered["text"]
    assert dom.count("<svg") == 2  # the forest plot, and the one comparison's waterfall
    assert "1x" in text and "log scale" in text  # forest: log axis, the 1x line named
    for trial in ("1", "2", "3"):
        assert f"vote, pair v1, trial {trial}: speed-up {rendered['headline']}" in text
    assert "vote-standard (standard): 2 pods" in text and "vote-streaming (streaming): 2 pods" in text


def test_the_rendered_page_says_the_environment_or_not_recorded(rendered):
    text = rendered["text"]
    env = text[text.index("Environment") : text.index("Excluded trials")]
    assert "westeurope" in env and "Standard_D4ds_v5" in env
    assert "2026-11-03 to 2026-11-04" in env
    assert "node image\nnot recorded" in env and "kubelet\nv1.33.2" in env and "containerd\nnot recorded" in env
    assert "3 in the pods; 2 trial manifest(s), 1 flagged" in env


def test_the_rendered_page_says_what_was_left_out_and_the_definitions(rendered):
    text = rendered["text"]
    assert "trial t-1 (#1) flagged warm-up (first trial after a deploy), excluded." in text
    defs = text[text.index("Definitions") :]
    assert "arm-ready" in defs and "geometric mean over the counted trials" in defs and "p95 20" in defs


def test_the_page_loads_nothing_from_outside(rendered):
    source = rendered["source"]
    assert not re.search(r"<(link|script|img|iframe|object|embed)\b", source)
    assert not re.search(r"@import|url\(\s*['\"]?(https?:|//)", source)
    for attr in re.findall(r"\s(?:src|href|xlink:href)=\"([^\"]*)\"", source):
        assert attr.startswith(("#", "data:")), attr


def test_every_id_on_the_page_is_unique_and_every_reference_resolves(rendered):
    ids = re.findall(r'\bid="([^"]+)"', rendered["source"])
    assert ids and len(ids) == len(set(ids))
    for ref in re.findall(r'(?:url\(#|href="#)([^")]+)', rendered["source"]):
        assert ref in ids, ref


def test_the_page_paints(rendered):
    shot = rendered["folder"] / "page.png"
    run_chromium(rendered["folder"], f"--screenshot={shot}", "--window-size=1280,2400", rendered["page"].as_uri())
    from PIL import Image

    image = Image.open(shot).convert("L")
    assert image.size == (1280, 2400)
    low, high = image.getextrema()
    assert low < 80 and high > 240  # dark text and bars on a light page, not a blank or error screen


def test_a_report_without_comparisons_says_so():
    html = render_html({"schema": "streaming-ab/timing-report@3", "pods": [], "arms": {}, "comparisons": []})
    assert "No comparison: the report has no pair" in html and "No comparison, so no waterfall." in html
    assert "Nothing was left out." in html


def test_without_chromium_ci_fails_and_elsewhere_skips(monkeypatch):
    monkeypatch.setattr(Path, "exists", lambda self: False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and no chromium"):
        chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="chromium is not installed"):
        chromium()
