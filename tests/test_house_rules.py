"""The house rules run with the tests: one-way layers, lint, format, types, settled provider paths."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(
    "command",
    [
        ("lint-imports",),
        ("ruff", "check", "."),
        ("ruff", "format", "--check", "."),
        ("mypy",),
    ],
    ids=lambda c: " ".join(c),
)
def test_tool_passes(command):
    result = run(str(BIN / command[0]), *command[1:])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def _imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_policy_pack_imports_no_project_package():
    # The pack is published on its own (`pulumi policy publish` uploads policy/ only).
    project = {"contract", "stackconfig", "providers", "components", "stacks", "timing", "offline", "tests"}
    for path in (ROOT / "policy").glob("*.py"):
        assert not _imported_top_levels(path) & project, path


# Pickled providers name their class by module path in every stack's state: these paths are settled.
SETTLED_PROVIDER_PATHS = {
    "providers.acr_import.ImportedImageProvider",
    "providers.acr_import.ExistingImageProvider",
    "providers.acr_streaming.StreamingArtifactProvider",
    "providers.acr_streaming.RepositoryStreamingProvider",
    "providers.acr_build.AcrBuildProvider",
    "providers.acr_token_credentials.TokenCredentialsProvider",
    "providers.aks_agent_pool.ExperimentPoolProvider",
}


def test_dynamic_provider_module_paths_are_settled():
    import importlib

    import pulumi.dynamic

    found = set()
    for module_path in sorted((ROOT / "providers").glob("*.py")):
        module = importlib.import_module(f"providers.{module_path.stem}")
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, pulumi.dynamic.ResourceProvider)
                and value.__module__ == module.__name__
                and not name.startswith("_")
                and name != "AzureProvider"
            ):
                found.add(f"{module.__name__}.{name}")
    assert found == SETTLED_PROVIDER_PATHS


DOCSTRING_CHECK = """
import ast, sys
from pathlib import Path
root = Path(sys.argv[1])
for path in sorted(root.rglob("*.py")):
    if "venv" in path.parts:
        continue
    doc = ast.get_docstring(ast.parse(path.read_text()), clean=False)
    if doc and doc.count("\\n") + 1 > 10:
        print(path.relative_to(root))
"""


def test_module_docstrings_stay_short():
    # History and design essays belong in git and docs/; a module says what it is in a few lines.
    # In a fresh interpreter: CPython 3.11.7's ast.parse can fail with "AST constructor recursion depth
    # mismatch" late in a long test session (a counter another extension left off by a few frames).
    result = subprocess.run([sys.executable, "-c", DOCSTRING_CHECK, str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []
