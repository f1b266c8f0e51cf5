"""docs/timing.md's worked example is what `report` prints today on the fixture dumps (the text, not the picture)."""

import re
import shlex
from pathlib import Path

from timing.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = re.compile(
    r"```bash\n(COLUMNS=(\d+) venv/bin/python -m timing report [^`]*?)\n```\n\n```\n(.*?)\n```\n", re.S
)


def test_the_worked_example_is_the_current_output(capsys, monkeypatch):
    (match,) = EXAMPLE.findall((ROOT / "docs" / "timing.md").read_text())
    command, columns, documented = match
    argv = shlex.split(command.replace("\\\n", " "))[4:]
    plot = argv.index("--plot")
    del argv[plot : plot + 2]  # the picture is not compared; writing it would change the checkout
    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.chdir(ROOT)
    assert main(argv) == 0
    printed = capsys.readouterr().out.rstrip("\n")
    assert printed == documented, "docs/timing.md: rerun the example command and paste its output"
