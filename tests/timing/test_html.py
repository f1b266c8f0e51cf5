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
    report["comparisons"][0]["pods_per_node"] = {"baseline": 50 / 7, "streaming": 2.5}
    report["trials"] = [
        {"id": "t-1", "index": 1, "started_at": "2026-11-03T09:00:00.000000Z", "flagged": True, "included": False,
         "verdict": "cold", "reasons": ["first trial after a deploy"],
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
            "headline": headline, "report": report}  # fmt: skip


def test_the_rendered_page_says_the_headline_interval_replicas_and_verification(rendered):
    text = rendered["text"]
    assert "vote, pair v1" in text
    assert rendered["headline"].startswith("6.6x [")  # the geometric mean of 41/6, 45/7 and 39/6
    assert rendered["headline"] in text  # with its interval and n
    assert "standard 2, streaming 2" in text  # replicas
    assert "standard 7.14, streaming 2.5" in text  # pods per node, as the terminal writes it
    assert "verified: streaming: yes, cold: yes" in text


def test_the_rendered_page_has_the_forest_plot_and_a_waterfall_per_trial(rendered):
    dom, text = rendered["dom"], rendered["text"]
    assert dom.count("<svg") == 2  # the forest plot, and the one comparison's waterfall
    assert "1x" in text and "log scale" in text  # forest: log axis, the 1x line named
    waterfall = text[text.index("Waterfall per trial") : text.index("Environment")]
    for t in rendered["report"]["comparisons"][0]["speedup"]["per_trial"]:
        own = f"{t['baseline']:.1f} s standard / {t['streaming']:.1f} s streaming = {t['ratio']:.1f}x"
        assert f"vote, pair v1, trial {t['trial']}: arm-ready {own}" in waterfall
    assert "= 6.8x" in waterfall and "= 6.4x" in waterfall and "= 6.5x" in waterfall  # 41/6, 45/7 and 39/6
    assert rendered["headline"] not in waterfall  # the headline is the comparison's, not a trial's
    assert "Both arms per trial, titled with the trial's own ratio: all 3 trials drawn; x axis: seconds" in waterfall
    assert "vote-standard (standard): 2 pods" in text and "vote-streaming (streaming): 2 pods" in text


def test_the_rendered_page_says_the_environment_or_not_recorded(rendered):
    text = rendered["text"]
    env = text[text.index("Environment") : text.index("Excluded trials")]
    assert "westeurope" in env and "Standard_D4ds_v5" in env
    assert "2026-11-03 to 2026-11-04 (UTC, from the trial manifests' start times)" in env
    assert "node image\nnot recorded" in env and "kubelet\nv1.33.2" in env and "containerd\nnot recorded" in env
    assert "3 in the pods; 2 trial manifest(s), 1 flagged" in env


def test_the_rendered_page_says_what_was_left_out_and_the_definitions(rendered):
    text = rendered["text"]
    assert "trial t-1 (#1) flagged, verdict cold (first trial after a deploy), excluded." in text
    codes = text[text.index("Codes on this page") : text.index("Definitions")]
    assert "verdict cold\nno reason found in a cold run" in codes
    defs = text[text.index("Definitions") :]
    assert "arm-ready" in defs and "the geometric mean of the trial ratios" in defs and "p95 20" in defs


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


NINE = [(40, 5), (45, 6), (38, 5), (41, 5), (43, 6), (39, 5), (40, 6), (44, 5), (42, 5)]


def _page_text(folder: Path, page: Path) -> str:
    parser = TextOf()
    parser.feed(run_chromium(folder, "--dump-dom", page.as_uri()))
    return "\n".join(parser.parts)


@pytest.fixture(scope="module")
def nine_trials(tmp_path_factory, results_writer):
    """A results folder of 9 trials whose first is flagged (registry warm-up), rendered by `report --html`."""
    import json

    from timing.cli import main

    folder = tmp_path_factory.mktemp("nine")
    results = results_writer(folder / "results", NINE)
    manifest = results / "trial-1" / "trial.json"
    first = json.loads(manifest.read_text()) | {"flagged": True, "first_trial": True, "reasons": ["first trial"]}
    manifest.write_text(json.dumps(first))
    page, doc = folder / "report.html", folder / "report.json"
    assert main(["report", "--results", str(results), "--html", str(page), "--json", str(doc)]) == 0
    return {"text": _page_text(folder, page), "report": json.loads(doc.read_text())}


def test_each_trial_panel_gives_its_own_ratio_or_why_it_is_left_out(nine_trials):
    text = nine_trials["text"]
    waterfall = text[text.index("Waterfall per trial") : text.index("Environment")]
    assert "vote, pair v1, trial t1: left out: warm_up" in waterfall  # flagged: not counted, so no ratio
    assert "vote, pair v1, trial t2: arm-ready 45.0 s standard / 6.0 s streaming = 7.5x" in waterfall
    assert "vote, pair v1, trial t3: arm-ready 38.0 s standard / 5.0 s streaming = 7.6x" in waterfall
    sp = nine_trials["report"]["comparisons"][0]["speedup"]
    assert sp["n_trials"] == 8 and f"{sp['estimate']:.1f}x [" in text  # the headline is on the page ...
    assert f"{sp['estimate']:.1f}x [" not in waterfall and "n=8" not in waterfall  # ... but on no trial


def test_the_page_says_how_many_trials_it_drew(nine_trials):
    text = nine_trials["text"]
    assert "titled with the trial's own ratio: first 6 of 9 trials drawn (at most 6 per comparison);" in text
    assert "vote, pair v1: first 6 of 9 trials drawn" in text  # in the picture too
    assert "trial t6:" in text and "trial t7:" not in text


def test_every_code_the_page_shows_is_defined_on_it(nine_trials):
    text = nine_trials["text"]
    excluded = text[text.index("Excluded trials and pods") : text.index("Codes on this page")]
    codes = text[text.index("Codes on this page") : text.index("Definitions")]
    assert "trials left out of the speed-up: warm_up 1." in excluded
    assert "trial t1 (#1) flagged, verdict cold (first trial), excluded." in excluded
    assert "warm_up\nthe first trial of a measure run, flagged on purpose" in codes
    assert "verdict cold\nno reason found in a cold run" in codes
    assert "not a code this version" not in codes


def _rule(definition: str):
    """The interval rule of the page's speed-up definition, read from its words and made Python."""
    rule = r"interval is exp\((.+?)\), where q is the mean over the counted trials of (.+?) with res = ([\d.]+) s"
    found = re.search(rule, definition)
    assert found, definition
    words = {"mean(ln r)": "m", "sd(ln r)": "sd", "t(0.975, n−1)": "t", "√n": "sqrt(n)", "√(": "sqrt("}
    words |= {"²": "**2", "·": "*", "−": "-"}
    python = []
    for part in found.group(1, 2):
        for text, code in words.items():
            part = part.replace(text, code)
        python.append(part)
    return python[0], python[1], float(found.group(3))


def test_the_printed_interval_follows_the_definition_on_the_page(nine_trials):
    import math
    import statistics

    from scipy.stats import t as student_t

    text = nine_trials["text"]
    definition = text[text.index("\nspeed-up\n") :].split("\n")[2]
    interval, q_of_trial, res = _rule(definition)
    trials = nine_trials["report"]["comparisons"][0]["speedup"]["per_trial"]
    logs = [math.log(t["baseline"] / t["streaming"]) for t in trials]
    n = len(logs)
    q = statistics.fmean(eval(q_of_trial, {"res": res, "b": t["baseline"], "s": t["streaming"]}) for t in trials)
    names = {
        "m": statistics.fmean(logs),
        "sd": statistics.stdev(logs),
        "t": student_t.ppf(0.975, n - 1),
        "q": q,
        "n": n,
    }
    names["sqrt"] = math.sqrt
    lo, hi = (math.exp(eval(interval.replace("±", sign), names)) for sign in "-+")
    printed = re.search(r"(\d+\.\d)x \[(\d+\.\d) to (\d+\.\d)\], n=(\d+)", text)
    assert printed and printed.groups() == (f"{math.exp(names['m']):.1f}", f"{lo:.1f}", f"{hi:.1f}", str(n))
    names["q"] = 0.0  # without the clocks' share the rule would print another interval: the words matter
    assert f"[{math.exp(eval(interval.replace('±', '-'), names)):.1f} to" not in printed.group(0)


def test_with_include_flagged_a_counted_trial_has_its_own_heading_and_its_flags_are_defined(
    tmp_path_factory, results_writer
):
    import json

    from timing.cli import main

    folder = tmp_path_factory.mktemp("counted")
    results = results_writer(folder / "results", NINE)
    manifest = results / "trial-1" / "trial.json"
    manifest.write_text(json.dumps(json.loads(manifest.read_text()) | {"flagged": True, "first_trial": True}))
    page = folder / "report.html"
    assert main(["report", "--results", str(results), "--include-flagged", "--html", str(page)]) == 0
    source = page.read_text()
    excluded = source[source.index('<section id="excluded">') : source.index('<section id="flagged-counted">')]
    counted = source[source.index('<section id="flagged-counted">') : source.index('<section id="definitions">')]
    assert "trial t1" not in excluded and "counted with flag(s) warm_up" not in excluded
    assert "Flagged trials counted because --include-flagged was given" in counted
    assert "trial t1 (#1) flagged, verdict cold" in counted and "counted (--include-flagged)." in counted
    assert "<dt>warm_up</dt><dd>the first trial of a measure run" in excluded  # the waterfall title's flag


def test_the_waterfall_caption_and_definitions_say_the_axis_scale():
    from tests.timing.conftest import waterfall_report

    spread = _page_words(render_html(waterfall_report(3)))  # 34 s against 3 s: symmetric-log
    assert "all 1 trial drawn; x axis: seconds from pod creation (linear to 1 s, log beyond)." in spread
    close = _page_words(render_html(waterfall_report(3, ready_std=30.0, ready_art=29.0)))
    assert "all 1 trial drawn; x axis: seconds from pod creation." in close
    definition = close[close.index("waterfall axis") :]
    assert "symmetric-log (linear from 0 to 1 s, log beyond, ticked at 0 and 1, 2, 5 per decade)" in definition
    assert "differ by more than 10x, linear otherwise" in definition


def _page_words(page: str) -> str:
    parser = TextOf()
    parser.feed(page)
    return "\n".join(parser.parts)


def test_configured_is_defined_on_the_page_that_shows_it(make_report):
    page = render_html(make_report())
    assert "unverified: streaming: no evidence, cold: no evidence</td><td>no evidence</td></tr>" in page
    assert "configured: " not in page  # not in the verification cell, which holds the evidence only
    assert "<th>configured (set-up, not evidence)</th>" in page
    assert "<dt>configured</dt><dd>true when the set-up asks for streaming" in page
    assert "not part of verified nor of the CI gates" in page
