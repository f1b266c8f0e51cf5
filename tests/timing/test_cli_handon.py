"""`report --html/--markdown`, the CI gates and their exit codes, `compare A B`, and a closed stdout."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TIMING_FIXTURES as FIXTURES
from timing.cli import main
from timing.errors import ExitStatus

ROOT = Path(__file__).resolve().parents[2]
DUMPS = ["--pods", str(FIXTURES / "pods.json"), "--events", str(FIXTURES / "events.json")]
VERIFIED = {"streaming": True, "cold": True, "reasons": [], "contradicted": []}


def test_html_and_markdown_are_written_and_said(tmp_path, capsys):
    page, summary = tmp_path / "r.html", tmp_path / "s.md"
    assert main(["report", *DUMPS, "--html", str(page), "--markdown", str(summary)]) == 0
    err = capsys.readouterr().err
    assert f"wrote {page} (page, 4 comparison(s))" in err and f"wrote {summary} (Markdown, 4 comparison(s))" in err
    assert page.read_text().startswith("<!DOCTYPE html>") and "vote, pair v1" in page.read_text()
    assert summary.read_text().startswith("## ACR artifact streaming A/B")


def test_page_into_a_missing_folder_is_a_usage_error(tmp_path, capsys):
    assert main(["report", *DUMPS, "--html", str(tmp_path / "no" / "r.html")]) == ExitStatus.USAGE
    assert "--html" in capsys.readouterr().err


@pytest.fixture
def verified_report(make_report, monkeypatch):
    """The CLI over a report whose headline (6.6x, n=3) is verified; verification has its own tests."""
    report = make_report()
    report["comparisons"][0]["verified"] = dict(VERIFIED)
    monkeypatch.setattr("timing.cli.report.build_for", lambda args: report)
    return report


def test_fail_below_exits_3_below_the_lower_bound_and_0_above(verified_report, capsys, tmp_path):
    lower = verified_report["comparisons"][0]["speedup"]["ci95"][0]
    below, above = f"{lower * 0.95:.3f}", f"{lower * 1.05:.3f}"
    assert main(["report", *DUMPS, "--fail-below", below, "--require-verified"]) == ExitStatus.OK
    summary = tmp_path / "s.md"
    assert main(["report", *DUMPS, "--fail-below", above, "--markdown", str(summary)]) == 3
    err = capsys.readouterr().err
    assert f"timing: gate failed: --fail-below {float(above):g}: vote/v1 (vote-standard vs vote-streaming)" in err
    assert f"speed-up lower bound {lower:.2f}x is below {float(above):g}x" in err
    assert "**CI gate failed:**" in summary.read_text()  # the job summary says why the job failed


@pytest.mark.parametrize(
    ("argv0", "name"),
    [("/home/u/.local/bin/streaming-ab-timing", "streaming-ab-timing"), ("/work/main/timing/__main__.py", "timing")],
)
def test_errors_notes_and_gate_lines_begin_with_the_name_it_was_run_as(argv0, name, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", [argv0])
    assert main(["report", *DUMPS, "--fail-below", "1"]) == 3
    err = capsys.readouterr().err.splitlines()
    notes = [line for line in err if ": note: " in line or ": gate failed: " in line]
    assert notes and all(line.startswith(f"{name}: ") for line in notes), notes
    assert main(["report", "--no-such-flag"]) == ExitStatus.USAGE
    assert capsys.readouterr().err.startswith(f"{name}: error: ")


def test_require_verified_exits_3_on_an_unverified_headline(verified_report, capsys):
    verified_report["comparisons"][0]["verified"] = {"streaming": None, "cold": True}
    assert main(["report", *DUMPS, "--require-verified"]) == 3
    assert "is not verified (streaming ?, cold ok)" in capsys.readouterr().err


def test_gates_on_unverified_dumps_fail_and_say_why(capsys):
    assert main(["report", *DUMPS, "--fail-below", "1"]) == 3
    err = capsys.readouterr().err
    assert "timing: note: --fail-below: vote/v1" in err and "not verified" in err
    assert "timing: gate failed: --fail-below 1: no counted, verified speed-up to hold against it" in err
    assert main(["report", *DUMPS, "--fail-below", "0"]) == ExitStatus.USAGE  # X must be a positive number


@pytest.mark.parametrize(("extra", "status"), [([], 0), (["--json"], 0), (["--require-verified"], 3)])
def test_a_closed_stdout_is_no_error(extra, status):
    """`report | head` (here `| true`, which reads nothing): no traceback, exit 0, or the gate's 3."""
    command = [sys.executable, "-m", "timing", "report", *DUMPS, *extra]
    shell = " ".join(f"'{part}'" for part in command) + ' | true; echo "status=${PIPESTATUS[0]}" >&2'
    out = subprocess.run(["bash", "-c", shell], cwd=ROOT, capture_output=True, text=True, check=True)
    assert f"status={status}" in out.stderr
    assert "Traceback" not in out.stderr and "BrokenPipe" not in out.stderr and "error" not in out.stderr


def test_compare_two_results_folders(results_writer, tmp_path, capsys):
    a = results_writer(tmp_path / "a", [(40, 6), (44, 7), (38, 6)])
    b = results_writer(tmp_path / "b", [(40, 13), (44, 14), (38, 12)])
    assert main(["compare", str(a), str(b), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "streaming-ab/timing-compare@1"
    (c,) = doc["comparisons"]
    assert c["a"]["n_trials"] == 3 and c["b"]["n_trials"] == 3
    assert c["ratio"] == pytest.approx(0.5, abs=0.05) and c["ci95"][1] < 1 and c["differ"] is True
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "speed-up of B / speed-up of A" in out and "0.49x [" in out and " yes " in out


def test_compare_a_report_file_with_a_folder(results_writer, tmp_path, capsys):
    a = results_writer(tmp_path / "a", [(40, 6), (44, 7), (38, 6)])
    report_file = tmp_path / "a.json"
    assert main(["report", "--results", str(a), "--json", str(report_file)]) == 0
    assert main(["compare", str(report_file), str(a), "--json", str(tmp_path / "c.json")]) == 0
    (c,) = json.loads((tmp_path / "c.json").read_text())["comparisons"]
    assert c["ratio"] == pytest.approx(1.0) and c["differ"] is False
    assert f"wrote {tmp_path / 'c.json'} (1 comparison(s) in both runs)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "B {b}: no such file or folder; give a results folder or a report --json FILE"),
        ("not json", "B {b}: not JSON"),
        ('{"schema": "other@1"}', "B {b}: schema 'other@1' is not a timing report; allowed:"),
    ],
)
def test_compare_names_what_it_cannot_read(results_writer, tmp_path, capsys, content, words):
    a = results_writer(tmp_path / "a", [(40, 6)])
    b = tmp_path / "b.json"
    if content is not None:
        b.write_text(content)
    assert main(["compare", str(a), str(b)]) == ExitStatus.USAGE
    err = capsys.readouterr().err
    assert err.startswith("timing: error: " + words.format(b=b)) and len(err.splitlines()) == 1


def test_one_tick_of_the_clock_is_not_a_difference(results_writer, tmp_path, capsys):
    """Streaming arm-ready 5 s against 6 s, one tick of the 1 s clock apart: each run's headline is
    clock-widened, so the interval of their ratio is too, and it holds 1."""
    a = results_writer(tmp_path / "a", [(40, 5), (44, 5), (38, 5)])
    b = results_writer(tmp_path / "b", [(40, 6), (44, 6), (38, 6)])
    assert main(["compare", str(a), str(b), "--json"]) == 0
    (c,) = json.loads(capsys.readouterr().out)["comparisons"]
    assert c["ratio"] == pytest.approx(5 / 6) and c["ci95"][0] < 1 < c["ci95"][1] and c["differ"] is False
    assert main(["compare", str(a), str(b)]) == 0
    assert "0.83x [0.65 to 1.1]   no" in capsys.readouterr().out  # as docs/timing.md quotes it


def test_one_trial_is_no_estimate_in_compare_as_in_report(results_writer, tmp_path, capsys):
    a = results_writer(tmp_path / "a", [(40, 6), (44, 7), (38, 6)])
    one = results_writer(tmp_path / "one", [(40, 5)])
    assert main(["compare", str(a), str(one)]) == 0
    out = capsys.readouterr().out
    assert out.count("no estimate (n=1)") == 2 and "x, no interval" not in out and "cannot say" in out


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda c: c.update(speedup=5), "comparisons[0].speedup: 5 is not an object"),
        (lambda c: c.update(workload=["vote"]), "comparisons[0].workload: ['vote'] is not a string"),
        (lambda c: c["speedup"].update(estimate="6.6"), "comparisons[0].speedup.estimate: '6.6' is not a positive"),
        (lambda c: c["speedup"]["per_trial"][0].update(ratio=1e300), "per_trial[0].ratio: 1e+300 is not a number"),
        (lambda c: c["verified"].update(cold="yes"), "comparisons[0].verified.cold: 'yes' is not true"),
    ],
)
def test_compare_refuses_a_malformed_report_in_one_line(results_writer, tmp_path, capsys, change, words):
    a = results_writer(tmp_path / "a", [(40, 6), (44, 7), (38, 6)])
    b = tmp_path / "b.json"
    assert main(["report", "--results", str(a), "--json", str(b)]) == 0
    doc = json.loads(b.read_text())
    change(doc["comparisons"][0])
    b.write_text(json.dumps(doc))
    capsys.readouterr()
    assert main(["compare", str(a), str(b)]) == ExitStatus.USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"timing: error: B {b}: ") and words in err and len(err.splitlines()) == 1


def test_compare_names_a_or_b_for_a_folder_without_trials_and_a_device(results_writer, tmp_path, capsys):
    a = results_writer(tmp_path / "a", [(40, 6)])
    (tmp_path / "empty").mkdir()
    assert main(["compare", str(a), str(tmp_path / "empty")]) == ExitStatus.USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"timing: error: B {tmp_path / 'empty'}: no trial in it") and "--results" not in err
    assert main(["compare", "/dev/null", str(a)]) == ExitStatus.USAGE
    assert capsys.readouterr().err.startswith("timing: error: A /dev/null: not a regular file or folder;")


def test_the_environment_of_a_results_folder_comes_from_its_manifests(results_writer, tmp_path):
    folder = results_writer(tmp_path / "r", [(40, 6), (44, 7), (38, 6)])
    summary = tmp_path / "s.md"
    assert main(["report", "--results", str(folder), "--markdown", str(summary)]) == 0
    text = summary.read_text()
    assert "| dates | 2026-11-01 to 2026-11-03 (UTC, from the trial manifests' start times) |" in text
    assert "| region | westus3 |" in text and "| VM sizes | Standard_D4ds_v5 |" in text
    assert "| kubelet | v1.33.2 |" in text and "| node image | not recorded |" in text


@pytest.mark.parametrize(("extra", "status"), [(["--json"], 0), ([], 0), (["--json", "--require-verified"], 3)])
def test_output_left_in_the_buffer_is_flushed_while_a_closed_pipe_is_still_caught(monkeypatch, extra, status):
    """`report --json | head -c 80`: the last bytes sit in stdout's buffer; flushed only at exit, a reader
    gone by then made Python print "Exception ignored ... BrokenPipeError" and exit 120."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader already left
    stdout = open(write_end, "w", buffering=1 << 20)  # noqa: SIM115 - closed below, after main
    monkeypatch.setattr(sys, "stdout", stdout)
    try:
        assert main(["report", *DUMPS, *extra]) == status
        stdout.flush()  # what the interpreter does at exit: nothing may be left to fail
    finally:
        stdout.close()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--markdown", ""], "--markdown: an empty file name (an unset variable?); give the file to write"),
        (["--html", " "], "--html: an empty file name"),
        (["--json", ""], "--json: an empty file name"),
        (["--markdown", "-"], "--markdown -: only --json writes to standard output; give the file to write"),
        (["--csv", "-"], "--csv -: only --json writes to standard output"),
    ],
)
def test_an_empty_or_dash_file_name_is_refused_before_anything_is_read(capsys, argv, words):
    assert main(["report", *DUMPS, *argv]) == ExitStatus.USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err


def test_pages_of_the_reference_figures_alone_are_refused(capsys, tmp_path):
    page, summary = tmp_path / "r.html", tmp_path / "s.md"
    assert main(["report", "--reference", "--html", str(page), "--markdown", str(summary)]) == ExitStatus.USAGE
    err = capsys.readouterr().err
    assert "--html, --markdown: --reference alone holds no measured run" in err
    assert not page.exists() and not summary.exists()
    assert main(["report", "--reference", "--json", str(tmp_path / "ref.json")]) == ExitStatus.OK


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("flag", ["--html", "--markdown", "--csv", "--json"])
def test_a_failed_write_names_its_flag_and_file(capsys, flag):
    assert main(["report", *DUMPS, flag, "/dev/full"]) == ExitStatus.FAILURE
    err = capsys.readouterr().err
    assert err == f"timing: error: {flag} /dev/full: writing it failed: No space left on device\n"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_compare_names_the_file_it_could_not_write(results_writer, tmp_path, capsys):
    a = results_writer(tmp_path / "a", [(40, 6), (44, 7), (38, 6)])
    assert main(["compare", str(a), str(a), "--json", "/dev/full"]) == ExitStatus.FAILURE
    assert capsys.readouterr().err == "timing: error: --json /dev/full: writing it failed: No space left on device\n"


def test_compare_json_left_in_the_buffer_is_flushed_while_a_closed_pipe_is_still_caught(
    results_writer, tmp_path, monkeypatch
):
    import os

    a = results_writer(tmp_path / "a", [(40, 6), (44, 7), (38, 6)])
    read_end, write_end = os.pipe()
    os.close(read_end)
    stdout = open(write_end, "w", buffering=1 << 20)  # noqa: SIM115 - closed below, after main
    monkeypatch.setattr(sys, "stdout", stdout)
    try:
        assert main(["compare", str(a), str(a), "--json"]) == ExitStatus.OK
        stdout.flush()
    finally:
        stdout.close()


def test_an_output_never_overwrites_what_the_run_reads_or_another_output(results_writer, tmp_path, capsys):
    import shutil

    pods, events = tmp_path / "p.json", tmp_path / "e.json"
    shutil.copy(FIXTURES / "pods.json", pods)
    shutil.copy(FIXTURES / "events.json", events)
    before = events.read_bytes()
    assert main(["report", "--pods", str(pods), "--events", str(events), "--html", str(events)]) == ExitStatus.USAGE
    assert f"--html {events}: this run reads that file; writing it would destroy it" in capsys.readouterr().err
    assert events.read_bytes() == before
    folder = results_writer(tmp_path / "r", [(40, 6), (44, 7), (38, 6)])
    inside = next(folder.rglob("*.json"))
    assert main(["report", "--results", str(folder), "--csv", str(inside)]) == ExitStatus.USAGE
    assert "this run reads that file" in capsys.readouterr().err
    same = tmp_path / "same.out"
    assert main(["report", *DUMPS, "--html", str(same), "--markdown", str(same)]) == ExitStatus.USAGE
    assert f"--markdown {same}: --html writes the same file; give each output its own" in capsys.readouterr().err
    assert not same.exists()


def test_compare_never_overwrites_a_run_and_refuses_an_empty_file_name(results_writer, tmp_path, capsys):
    a = results_writer(tmp_path / "a", [(40, 6), (44, 7), (38, 6)])
    report_a = tmp_path / "a.json"
    assert main(["report", "--results", str(a), "--json", str(report_a)]) == ExitStatus.OK
    capsys.readouterr()
    before = report_a.read_bytes()
    assert main(["compare", str(report_a), str(a), "--json", str(report_a)]) == ExitStatus.USAGE
    assert "this run reads that file" in capsys.readouterr().err and report_a.read_bytes() == before
    assert main(["compare", str(a), str(a), "--json", ""]) == ExitStatus.USAGE
    assert "--json: an empty file name" in capsys.readouterr().err


def test_compare_says_what_it_reads_when_a_file_is_no_report(tmp_path, capsys, results_writer):
    a = results_writer(tmp_path / "a", [(40, 6), (44, 7), (38, 6)])
    empty = tmp_path / "list.json"
    empty.write_text("[]")
    assert main(["compare", str(a), str(empty)]) == ExitStatus.USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"B {empty}: not a JSON object; give a report --json FILE of this version, or a results folder" in err
