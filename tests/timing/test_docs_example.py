"""docs/timing.md's worked examples are what `report` prints today (the text, not the picture), on
fixtures their generators write today."""

import re
import runpy
import shlex
from pathlib import Path

import pytest

from tests.conftest import TIMING_FIXTURES
from timing.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = re.compile(
    r"```bash\n(COLUMNS=(\d+) venv/bin/python -m timing report [^`]*?)\n```\n\n```\n(.*?)\n```\n", re.S
)
# The inputs and the picture of each example, in the doc's order.
EXAMPLES = [
    ("--pods tests/fixtures/timing/pods.json", "docs/img/timing-report-example.png"),
    ("--results tests/fixtures/timing/results-example", "docs/img/timing-report-results-example.png"),
]


def _examples() -> list[tuple[str, str, str]]:
    return EXAMPLE.findall((ROOT / "docs" / "timing.md").read_text())


def _argv(command: str) -> list[str]:
    return shlex.split(command.replace("\\\n", " "))[4:]


def test_the_doc_shows_both_examples_with_their_pictures():
    text = (ROOT / "docs" / "timing.md").read_text()
    examples = _examples()
    assert len(examples) == len(EXAMPLES)
    for (command, _columns, _output), (inputs, picture) in zip(examples, EXAMPLES, strict=True):
        argv = _argv(command)
        assert inputs in " ".join(argv) and argv[argv.index("--plot") + 1] == picture
        assert (ROOT / picture).is_file() and f"]({picture.removeprefix('docs/')})" in text


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_the_worked_example_is_the_current_output(index, capsys, monkeypatch):
    command, columns, documented = _examples()[index]
    argv = _argv(command)
    plot = argv.index("--plot")
    del argv[plot : plot + 2]  # the picture is not compared; writing it would change the checkout
    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.chdir(ROOT)
    assert main(argv) == 0
    printed = capsys.readouterr().out.rstrip("\n")
    assert printed == documented, "docs/timing.md: rerun the example command and paste its output"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_results_folder_is_what_its_generator_writes(tmp_path):
    build = runpy.run_path(str(TIMING_FIXTURES / "build_results.py"))["build"]
    build(tmp_path / "results")
    written, committed = _files(tmp_path / "results"), _files(TIMING_FIXTURES / "results-example")
    assert sorted(written) == sorted(committed), "rerun python tests/fixtures/timing/build_results.py"
    stale = [name for name in written if written[name] != committed[name]]
    assert not stale, f"rerun python tests/fixtures/timing/build_results.py: {stale} differ"
