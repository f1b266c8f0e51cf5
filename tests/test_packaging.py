"""`pip install .` ships the timing CLI only: its packages, its console script, its dependencies (no network)."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import setuptools

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
FIRST_PARTY = {"timing", "contract"}
NOT_SHIPPED = {"stacks", "components", "providers", "stackconfig", "offline", "tests", "policy", "benchmarks"}


def _shipped_packages() -> set[str]:
    """What setuptools' own discovery finds with the pyproject's find table (as a wheel build does)."""
    find = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    assert find["namespaces"] is False  # only folders with __init__.py: no __pycache__ or stray folders
    return set(setuptools.find_packages(where=str(ROOT), include=find["include"], exclude=find.get("exclude", ())))


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, requirement
    return _canonical(match.group(0))


def _imported_modules(package: str) -> set[str]:
    """Every absolute import in a package, lazy ones inside functions included."""
    names: set[str] = set()
    for path in (ROOT / package.replace(".", "/")).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
    return names


def _distribution_of(module: str, distributions: dict[str, list[str]]) -> str:
    """The installed distribution a module comes from; `azure.identity` picks azure-identity among azure-*."""
    candidates = distributions.get(module.split(".")[0], [])
    assert candidates, f"{module}: imported by the timing CLI but not installed here"
    dotted = _canonical(module)
    matching = [c for c in candidates if len(candidates) == 1 or dotted.startswith(_canonical(c))]
    assert matching, f"{module}: none of {candidates} provides it"
    return _canonical(max(matching, key=len))


def test_the_wheel_holds_timing_and_contract_only():
    on_disk = {
        ".".join(folder.relative_to(ROOT).parts)
        for folder in [ROOT / "timing", *(ROOT / "timing").rglob("*")]
        if folder.is_dir() and folder.name != "__pycache__" and any(folder.glob("*.py"))
    }
    assert _shipped_packages() == on_disk | {"contract"}
    assert not {name.split(".")[0] for name in _shipped_packages()} & NOT_SHIPPED


def test_the_console_script_is_the_timing_command_line():
    assert PROJECT["scripts"] == {"streaming-ab-timing": "timing.cli:run"}
    module, _, function = PROJECT["scripts"]["streaming-ab-timing"].partition(":")
    assert callable(getattr(importlib.import_module(module), function))
    assert "streaming-ab-timing" in (ROOT / "README.md").read_text()


def test_dependencies_are_what_the_shipped_code_imports():
    imported = set().union(*(_imported_modules(package) for package in _shipped_packages()))
    third_party = {m for m in imported if m.split(".")[0] not in sys.stdlib_module_names | FIRST_PARTY}
    distributions = importlib.metadata.packages_distributions()
    needed = {_distribution_of(module, distributions) for module in third_party}
    optional = [r for extra in PROJECT.get("optional-dependencies", {}).values() for r in extra]
    declared = {_requirement_name(r) for r in PROJECT["dependencies"] + optional}
    assert needed == declared, f"imported but not declared: {needed - declared}; declared, unused: {declared - needed}"


def test_dependency_pins_are_those_of_requirements_txt():
    pinned = {
        _requirement_name(line): line.replace(" ", "")
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "-"))
    }
    optional = [r for extra in PROJECT.get("optional-dependencies", {}).values() for r in extra]
    for requirement in PROJECT["dependencies"] + optional:
        assert pinned.get(_requirement_name(requirement)) == requirement.replace(" ", ""), requirement


def test_requires_python_is_the_version_the_tools_check():
    mypy_version = PYPROJECT["tool"]["mypy"]["python_version"]
    assert PROJECT["requires-python"] == f">={mypy_version}"
    assert PYPROJECT["tool"]["ruff"]["target-version"] == "py" + mypy_version.replace(".", "")
    assert sys.version_info >= tuple(int(part) for part in mypy_version.split("."))


def test_the_license_ships_with_the_wheel():
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    # An SPDX license string needs setuptools 77 or later to build.
    assert PYPROJECT["build-system"]["requires"] == ["setuptools>=77"]


def _build_wheel(tmp_path: Path) -> Path:
    """The wheel `pip install .` would install, built offline from a copy (a build in the checkout leaves build/)."""
    source = tmp_path / "source"
    for name in ("timing", "contract"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "LICENSE", PROJECT["readme"]):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    built = tmp_path / "dist"
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", built, source], check=True)
    (wheel,) = built.glob("acr_streaming_ab_timing-*.whl")
    return wheel


def test_the_installed_console_script_runs_from_any_folder(tmp_path):
    site = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", site, _build_wheel(tmp_path)], check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHONPATH": str(site)}  # the dependencies come from this venv, timing from the wheel
        script = site / "bin" / "streaming-ab-timing"
        return subprocess.run([script, *args], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)

    where = subprocess.run(
        [sys.executable, "-c", "import timing; print(timing.__file__)"],
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(site)
    helped = run("report", "--help")
    assert helped.returncode == 0 and helped.stdout.startswith("usage: streaming-ab-timing report")
    assert "  streaming-ab-timing report --stack dev" in helped.stdout
    reference = run("report", "--reference")
    assert reference.returncode == 0 and "Project Teleport" in reference.stdout, reference.stderr
    # The installed copy has no Pulumi.yaml beside it: --stack looks where `pulumi` would, and says so in a line.
    live = run("report", "--stack", "dev")
    assert live.returncode == 1 and live.stderr.count("\n") == 1, live.stderr
    assert "--stack needs the acr-streaming-ab project: no Pulumi.yaml named 'acr-streaming-ab' in " in live.stderr
