import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TIMING_FIXTURES
from timing.cli import build_parser, main
from timing.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
DUMPS = [
    "--pods",
    str(TIMING_FIXTURES / "pods.json"),
    "--events",
    str(TIMING_FIXTURES / "events.json"),
    "--events",
    str(TIMING_FIXTURES / "events-k8s-io.json"),
]


def test_python_m_timing_report_json():
    out = subprocess.run(
        [sys.executable, "-m", "timing", "report", *DUMPS, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    doc = json.loads(out.stdout)
    assert doc["schema"] == "streaming-ab/timing-report@3"
    assert len(doc["pods"]) == 32 and len(doc["comparisons"]) == 4
    # The offline path must not import Pulumi or touch a cluster.
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, runpy; sys.argv=['timing','report',*sys.argv[1:],'--json'];"
            "import io, contextlib\n"
            "buf=io.StringIO()\n"
            "with contextlib.redirect_stdout(buf):\n"
            "    from timing.cli import main; main(sys.argv[1:])\n"
            "print('pulumi' in sys.modules, 'kubernetes' in sys.modules)",
            *DUMPS,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "False False"


def _printed_json(monkeypatch, stdout) -> str:
    monkeypatch.setattr(sys, "stdout", stdout)
    assert main(["report", *DUMPS, "--json"]) == 0
    stdout.flush()
    return stdout.getvalue() if isinstance(stdout, io.StringIO) else stdout.buffer.getvalue().decode("utf-8")


class _CountedText(io.TextIOWrapper):
    """A stdout that counts what goes through its text layer."""

    texts = 0

    def write(self, s):
        self.texts += 1
        return super().write(s)


def test_json_on_stdout_is_the_same_text_written_as_bytes_or_as_text(monkeypatch):
    # A UTF-8 stdout takes orjson's bytes as they are (100 000 pods: 100 MB not decoded and encoded
    # again); any other stdout (no buffer, another encoding) takes the text.
    utf8 = _CountedText(io.BytesIO(), encoding="utf-8")
    as_bytes = _printed_json(monkeypatch, utf8)
    as_text = _printed_json(monkeypatch, io.StringIO())
    latin1 = _CountedText(io.BytesIO(), encoding="latin-1")
    as_latin1 = _printed_json(monkeypatch, latin1)
    assert as_bytes == as_text == as_latin1 and as_bytes.endswith("}\n")
    assert json.loads(as_bytes)["schema"] == "streaming-ab/timing-report@3"
    assert utf8.texts == 0 and latin1.texts > 0


def test_the_cyclic_collector_is_paused_for_the_whole_command_and_restored(monkeypatch, capsys):
    # The report's millions of objects would otherwise be scanned once more by the first collection
    # after the build, while the output is written.
    import gc

    from timing.cli import output

    seen = []
    real = output.show_report
    monkeypatch.setattr("timing.cli.report.show_report", lambda *a: seen.append(gc.isenabled()) or real(*a))
    assert gc.isenabled()
    assert main(["report", *DUMPS, "--json"]) == 0
    assert seen == [False] and gc.isenabled()


def test_outputs_written(tmp_path, capsys):
    csv_path, png = tmp_path / "a.csv", tmp_path / "a.png"
    assert main(["report", *DUMPS, "--csv", str(csv_path), "--plot", str(png)]) == 0
    assert csv_path.read_text().startswith("arm,workload,pair")
    assert png.stat().st_size > 0
    captured = capsys.readouterr()
    assert "vote: seconds until every pod of the arm is Ready" in captured.out
    # Each file written is said on stderr, with what is in it.
    assert f"wrote {csv_path} (18 row(s)" in captured.err and f"wrote {png} (forest plot and waterfall" in captured.err


def test_reference_alone_needs_no_cluster(capsys):
    assert main(["report", "--reference"]) == 0
    out = capsys.readouterr().out
    assert "34.7" in out and "31.7" in out and "1.9" in out and "64.0" in out and "14.0" in out and "9.0" in out
    assert main(["report", "--reference", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["reference"]) == 5


def test_reference_json_beside_measured(capsys):
    assert main(["report", *DUMPS, "--reference", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] and doc["reference"][0]["standard_seconds"] == 34.7


def test_events_without_pods_is_an_error(capsys):
    assert main(["report", "--events", str(TIMING_FIXTURES / "events.json")]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "timing: error: --events needs --pods: events alone do not say which arm a pod is in"
    )


def test_parser_accepts_the_stack_reader_command():
    # The exact command the Pulumi stack exports in timingReaders.
    args = build_parser().parse_args(
        ["report", "--stack", "dev", "--namespace", "streaming-ab", "--selector", "streaming-ab/arm=vote-teleporter"]
    )
    assert (args.stack, args.namespace, args.selector) == ("dev", ["streaming-ab"], "streaming-ab/arm=vote-teleporter")


def test_measure_needs_a_mode():
    with pytest.raises(UsageError, match="one of the arguments --reset --warm is required"):
        build_parser().parse_args(["measure", "--trials", "2"])
    a = build_parser().parse_args(["measure", "--warm", "--workload", "vote", "--workload", "largeimage"])
    assert a.warm and a.workload == ["vote", "largeimage"]
    with pytest.raises(UsageError, match="not allowed with argument"):
        build_parser().parse_args(["measure", "--warm", "--reset", "purge"])


def test_help_names_the_command_as_it_was_run():
    from timing.cli.parser import invoked_as

    assert invoked_as("/home/u/.local/bin/streaming-ab-timing") == "streaming-ab-timing"
    assert invoked_as("/work/main/timing/__main__.py") == "python -m timing"
    installed = build_parser("streaming-ab-timing").format_help()
    assert installed.startswith("usage: streaming-ab-timing ")
    assert "  streaming-ab-timing measure --stack dev --reset purge --trials 10" in installed
    assert "python -m timing" not in installed
    module = build_parser(invoked_as("timing/__main__.py")).commands["report"].format_help()
    assert module.startswith("usage: python -m timing report ")
    assert "  python -m timing report --reference" in module


# The end of the process (timing.cli.run) ----------------------------------------------------------------


class _Exited(Exception):
    def __init__(self, status):
        self.status = status


@pytest.fixture
def exits(monkeypatch):
    """run() with os._exit caught: the status it ended the process with."""
    import timing.cli as cli

    def _exit(status):
        raise _Exited(status)

    monkeypatch.setattr(cli.os, "_exit", _exit)
    # The test process's own exit handlers (pytest's) must not run here: only the command's.
    registered: list = []
    monkeypatch.setattr(cli.atexit, "register", lambda func, *a: registered.append((func, a)))
    monkeypatch.setattr(cli.atexit, "_run_exitfuncs", lambda: [func(*a) for func, a in reversed(registered)])

    def call(command):
        monkeypatch.setattr(cli, "main", command)
        with pytest.raises(_Exited) as ended:
            cli.run()
        return ended.value.status

    return call


def test_run_flushes_what_the_command_printed_then_ends_with_its_status(exits, monkeypatch):
    buffered = io.StringIO()
    flushed = []
    buffered.flush = lambda: flushed.append(buffered.getvalue())  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stdout", buffered)

    def command(process_exits):
        assert process_exits
        print("table", file=sys.stdout)
        return 3

    assert exits(command) == 3
    assert flushed == ["table\n"]


def test_run_says_in_one_line_that_standard_output_could_not_be_written(exits, monkeypatch, capsys):
    class Full(io.StringIO):
        def flush(self):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(sys, "stdout", Full())
    assert exits(lambda process_exits: 0) == 1
    assert capsys.readouterr().err == (
        "timing: error: writing standard output failed: [Errno 28] No space left on device\n"
    )


def test_a_report_is_kept_to_the_end_only_of_a_process_that_ends_with_it(monkeypatch, capsys):
    """Freeing 100 000 pods' objects at the end took 0.45 s: a process about to end keeps them (and leaves
    the cyclic collector paused); a caller that goes on, as these tests do, gets everything freed."""
    import gc

    from timing.cli import report as command

    monkeypatch.setattr(command, "KEPT_UNTIL_EXIT", [])
    assert main(["report", *DUMPS, "--json"]) == 0
    assert command.KEPT_UNTIL_EXIT == [] and gc.isenabled()
    try:
        assert main(["report", *DUMPS, "--json"], process_exits=True) == 0
        (kept,) = command.KEPT_UNTIL_EXIT
        assert len(kept["pods"]) == 32 and not gc.isenabled()
    finally:
        gc.enable()
    capsys.readouterr()


def test_run_runs_the_exit_handlers_before_the_process_ends(exits):
    import atexit

    ran = []

    def command(process_exits):
        atexit.register(ran.append, "cleaned up")
        return 0

    assert exits(command) == 0
    assert ran == ["cleaned up"]


def test_a_kubeconfig_key_written_for_the_client_is_deleted_at_the_end(tmp_path):
    """The kubernetes client writes inline key and certificate data to temporary files and deletes
    them in an exit handler: the process must not end without running it."""
    kubeconfig = tmp_path / "kubeconfig.yaml"
    secret = "RkFLRS1QUklWQVRFLUtFWQ=="  # base64 of FAKE-PRIVATE-KEY
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        f"clusters: [{{name: c, cluster: {{server: 'https://127.0.0.1:1', certificate-authority-data: {secret}}}}}]\n"
        f"users: [{{name: u, user: {{client-certificate-data: {secret}, client-key-data: {secret}}}}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
    )
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    out = subprocess.run(
        [sys.executable, "-m", "timing", "report", "--kubeconfig", str(kubeconfig)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(temporary)},
        timeout=120,
    )
    assert out.returncode == 1 and "reading the cluster failed" in out.stderr  # nothing listens on port 1
    assert list(temporary.iterdir()) == []


def test_run_ends_with_the_commands_status_when_standard_error_was_closed(exits, monkeypatch):
    """`report --fail-below X 2>&-` in a CI wrapper: a failed gate is 3, not a crash in the final flush."""
    monkeypatch.setattr(sys, "stderr", None)
    assert exits(lambda process_exits: 3) == 3
    monkeypatch.setattr(sys, "stdout", None)
    assert exits(lambda process_exits: 0) == 0
