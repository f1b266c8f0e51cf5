"""House rule: no test module imports another test module; shared scenarios live in conftest.py or offline/."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_no_module_under_tests_imports_a_test_module():
    offenders = [
        f"{path.relative_to(TESTS.parent)} imports {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for module in sorted(imported_modules(path))
        if module.startswith("tests.") and module.rsplit(".", 1)[-1].startswith("test_")
    ]
    assert offenders == []


def test_the_rule_sees_both_import_forms(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from tests.providers import test_acr_build\nimport tests.timing.test_cli\n")
    assert {"tests.providers.test_acr_build", "tests.timing.test_cli"} <= imported_modules(sample)
