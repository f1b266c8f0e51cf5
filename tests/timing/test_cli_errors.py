"""Every mistake a new user makes ends in one line on stderr naming the culprit; never a traceback."""

from __future__ import annotations

import json
import sys
import types

import pytest

from tests.conftest import TIMING_FIXTURES
from timing.cli import build_parser, main
from timing.errors import UsageError

PODS, EVENTS = str(TIMING_FIXTURES / "pods.json"), str(TIMING_FIXTURES / "events.json")


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.err.strip(), captured.out


def one_line(err: str) -> str:
    assert err.count("\n") == 0 and "Traceback" not in err, err
    assert err.startswith("timing: error: "), err
    return err.removeprefix("timing: error: ")


@pytest.fixture
def files(tmp_path):
    def write(name, content):
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return str(path)

    return write


@pytest.mark.parametrize(
    "content, words",
    [
        ("", "the file is empty"),
        ('{"apiVersion": "v1", "items": [{"kind": "Pod"', "not JSON"),  # truncated
        ("\x00\x01garbage", "not JSON"),
        ("42", "not a kubectl List or object"),
        ({"kind": "List", "items": "nope"}, '"items" is not a list'),
        ({"kind": "List", "items": [1, 2]}, "2 of its 2 items are not objects"),
        (
            {"kind": "List", "items": [{"kind": "Service", "metadata": {"name": "s"}}]},
            "holds 1 Service object(s), not Pods",
        ),
    ],
)
def test_bad_pod_dumps(capsys, files, content, words):
    path = files("pods.json", content)
    code, err, _ = run(capsys, "report", "--pods", path, "--events", EVENTS)
    message = one_line(err)
    assert code == 2 and message.startswith(f"--pods {path}") and words in message


def test_missing_dump_and_swapped_files(capsys, tmp_path):
    code, err, _ = run(capsys, "report", "--pods", str(tmp_path / "nope.json"))
    assert code == 2 and one_line(err) == f"--pods {tmp_path / 'nope.json'}: no such file"
    code, err, _ = run(capsys, "report", "--pods", EVENTS, "--events", PODS)
    message = one_line(err)
    assert (
        code == 2 and "holds" in message and "Event object(s), not Pods" in message and "give it to --events" in message
    )
    code, err, _ = run(capsys, "report", "--pods", PODS, "--events", PODS)
    message = one_line(err)
    assert code == 2 and message.startswith(f"--events {PODS} holds") and "give it to --pods" in message


def test_pods_given_as_events_are_counted_once_when_the_file_is_read_again_whole(capsys, tmp_path):
    # Indented like kubectl, but with "items" given twice: the item-by-item read finds that only at the
    # end of the file and starts over with a whole parse; the objects are counted once, not twice.
    doc = json.loads((TIMING_FIXTURES / "pods.json").read_text())
    text = json.dumps(doc, indent=4)
    wrong = tmp_path / "events.json"
    wrong.write_text(text[:-2] + ',\n    "items": ' + json.dumps(doc["items"]) + "\n}")
    code, err, _ = run(capsys, "report", "--pods", PODS, "--events", str(wrong))
    assert code == 2 and f"holds {len(doc['items'])} Pod object(s), not Events" in one_line(err)


def test_true_causes_of_an_empty_report(capsys, files):
    code, err, _ = run(capsys, "report", "--pods", PODS, "--events", EVENTS, "--namespace", "kube-system")
    message = one_line(err)
    assert code == 2 and "experiment pod(s), but none in namespace(s) kube-system" in message
    code, err, _ = run(capsys, "report", "--pods", PODS, "--events", EVENTS, "--selector", "streaming-ab/arm=nope")
    assert code == 2 and "but none matching --selector 'streaming-ab/arm=nope'" in one_line(err)
    plain = files("plain.json", {"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "web", "labels": {}}}]})
    code, err, _ = run(capsys, "report", "--pods", plain)
    assert code == 2 and "none of its 1 pods carries the streaming-ab/arm label" in one_line(err)
    empty = files("empty-list.json", {"kind": "List", "items": []})
    code, err, _ = run(capsys, "report", "--pods", empty)
    assert code == 2 and one_line(err) == f"{empty}: no pods in it"


def test_pods_without_events_say_so_and_never_blame_expiry(capsys):
    code, _, out = run(capsys, "report", "--pods", PODS)
    assert code == 0
    assert "no events were given (--events)" in out and "expire" not in out


@pytest.mark.parametrize(
    "argv, words",
    [
        (["report", "--pods", PODS, "--selector", "a in (b"], "--selector 'a in (b'"),
        (["report", "--pods", PODS, "--csv", "/no/such/folder/a.csv"], "--csv /no/such/folder/a.csv: the folder"),
        (["report", "--pods", PODS, "--plot", "out.gif"], "--plot out.gif: unsupported picture format 'gif'"),
        (["report", "--results", "/no/such/results"], "--results /no/such/results: no such folder"),
        (["report", "--pods", PODS, "--image-info", "/no/such.json"], "--image-info /no/such.json: no such file"),
        (["report", "--stack", "dev", "--pods", PODS], "--stack read a cluster, --pods/--events/--results read files"),
        (
            ["report", "--pods", PODS, "--exclude-flagged"],
            "--exclude-flagged: flagged trials are now left out by default; --include-flagged puts them back",
        ),
        (["report", "--kubeconfig", "/missing"], "--kubeconfig /missing: no such file"),
        (["report", "--frobnicate"], "report: unrecognized arguments: --frobnicate; see "),
        (["measure", "--warm", "--trials", "-5"], "argument --trials: -5 must be a finite number greater than 0"),
        (["measure", "--warm", "--timeout", "abc"], "argument --timeout: 'abc' is not a number"),
        (["measure", "--warm", "--poll", "0"], "argument --poll: 0 must be a finite number greater than 0"),
        (["report", "--pods", PODS, "--fail-below", "nan"], "argument --fail-below: nan must be a finite number"),
        (["report", "--pods", PODS, "--fail-below", "inf"], "argument --fail-below: inf must be a finite number"),
        (["report", "--pods", PODS, "--fail-below", "1e400"], "argument --fail-below: 1e400 must be a finite number"),
        (["measure", "--warm", "--timeout", "nan"], "argument --timeout: nan must be a finite number"),
        # Negative numbers reach the flag's own check, not argparse's "expected one argument".
        (["report", "--pods", PODS, "--fail-below", "-inf"], "argument --fail-below: -inf must be a finite number"),
        (["report", "--pods", PODS, "--fail-below", "-1e3"], "argument --fail-below: -1e3 must be a finite number"),
        (["report", "--pods", PODS, "--fail-below", "-1"], "argument --fail-below: -1 must be a finite number"),
        (["measure", "--warm", "--poll", "-Infinity"], "argument --poll: -Infinity must be a finite number"),
        (["measure", "--warm", "--timeout", "-.5e1"], "argument --timeout: -.5e1 must be a finite number"),
        (["measure", "--warm", "--precision", "-10%"], "argument --precision: -10% must be between 0% and 100%"),
        (["report", "--pods", PODS, "--namespace", ""], "argument --namespace/-n: '' is not a namespace name; allowed"),
        (["report", "--pods", PODS, "-n", "a,,b"], "'a,,b' is not a namespace name; allowed: an RFC 1123 label"),
        (["report", "--results", "r", "-n", "Streaming"], "'Streaming' is not a namespace name"),
        (["measure", "--warm", "--namespace", "x-"], "argument --namespace/-n: 'x-' is not a namespace name"),
        (["measure", "--reset", "recycle"], "--reset recycle needs --stack NAME"),
        (["measure", "--reset", "purge"], "--reset purge needs --stack NAME (its registry's busybox)"),
        (["measure", "--reset", "purge", "--purge-image", "busybox:1.37"], "give it by digest"),
    ],
)
def test_usage_mistakes(capsys, argv, words):
    code, err, _ = run(capsys, *argv)
    message = one_line(err)
    assert code == 2 and words in message, message


def test_results_folder_without_trials(capsys, tmp_path):
    code, err, _ = run(capsys, "report", "--results", str(tmp_path))
    assert code == 2 and "no trial in it" in one_line(err)


def test_no_kubeconfig_and_no_pulumi(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    monkeypatch.setenv("HOME", str(tmp_path))
    code, err, _ = run(capsys, "measure", "--warm")
    assert code == 2 and "kubeconfig" in one_line(err) and "--stack NAME, --kubeconfig PATH" in err

    def no_pulumi(*args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory", "pulumi")

    auto = types.ModuleType("pulumi.automation")
    auto.select_stack = no_pulumi
    monkeypatch.setitem(sys.modules, "pulumi.automation", auto)
    code, err, _ = run(capsys, "report", "--stack", "dev")
    assert code == 1 and one_line(err) == "--stack needs the Pulumi CLI on PATH (https://www.pulumi.com/docs/install/)"


def test_debug_shows_the_traceback(capsys, tmp_path):
    code = main(["report", "--pods", str(tmp_path / "nope.json"), "--debug"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" in err and err.strip().endswith("no such file")


def test_help_has_a_description_and_examples(capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/streaming-ab-timing"])
    for argv in (["--help"], ["report", "--help"], ["measure", "--help"]):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 0
        out = capsys.readouterr().out
        assert "examples:" in out and "\n  streaming-ab-timing " in out


def test_the_top_level_help_names_the_command_of_each_example_block():
    top = build_parser("streaming-ab-timing").format_help()
    assert "\nexamples:" not in top  # no bare block: each says which command it is for
    for name in ("report", "compare", "measure"):
        block = top[top.index(f"\n{name} examples:\n") :].split("\n\n")[0]
        lines = block.strip().splitlines()[1:]
        assert lines and all(line.startswith(f"  streaming-ab-timing {name} ") for line in lines), block
    report = build_parser("streaming-ab-timing").commands["report"].format_help()
    assert "\nexamples:\n  streaming-ab-timing report " in report  # a command's own help: plain "examples:"


def test_compare_help_gives_its_exit_statuses_as_report_help_does():
    commands = build_parser("timing").commands
    assert "Exit status: 0 done, 3 a CI gate failed" in " ".join(commands["report"].format_help().split())
    assert "Exit status: 0 done, 2 a usage mistake" in " ".join(commands["compare"].format_help().split())


def test_purge_image_is_the_stack_registrys_busybox_pinned_by_digest(monkeypatch):
    import argparse

    from timing.cli import measure
    from timing.sources import stack

    digest = "sha256:" + "c" * 64
    outputs = {"images": {"busybox": {"ref": "abc.azurecr.io/library/busybox:1.37", "digest": digest}}}
    monkeypatch.setattr(stack, "stack_outputs", lambda name: outputs)
    args = argparse.Namespace(purge_image=None, stack="dev")
    assert measure._purge_image(args) == f"abc.azurecr.io/library/busybox@{digest}"
    monkeypatch.setattr(stack, "stack_outputs", lambda name: {"images": {}})
    with pytest.raises(UsageError, match="exports no busybox image"):
        measure._purge_image(args)


def test_the_node_probe_uses_the_purge_image_and_is_left_out_with_a_note_without_one(monkeypatch):
    import argparse
    import io

    from rich.console import Console

    from timing.cli import measure
    from timing.sources import stack

    console = Console(file=io.StringIO(), width=200)
    digest = "sha256:" + "c" * 64
    outputs = {"images": {"busybox": {"ref": "abc.azurecr.io/library/busybox:1.37", "digest": digest}}}
    monkeypatch.setattr(stack, "stack_outputs", lambda name: outputs)
    args = argparse.Namespace(purge_image=None, stack="dev", timeout=60.0, poll=1.0)
    prober = measure._prober(args, object(), object(), None, console)
    assert prober is not None and prober.image == f"abc.azurecr.io/library/busybox@{digest}"
    monkeypatch.setattr(stack, "stack_outputs", lambda name: {"images": {}})
    assert measure._prober(args, object(), object(), None, console) is None
    assert measure._prober(argparse.Namespace(purge_image=None, stack=None), None, None, None, console) is None
    said = console.file.getvalue()
    assert "no node probe (--stack dev exports no busybox image" in said and "no node probe (it needs --stack" in said
