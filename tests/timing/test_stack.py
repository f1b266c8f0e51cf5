import sys
import types

import pytest

import timing.sources.stack as stack
from timing.errors import TimingError


class _Out:
    def __init__(self, value):
        self.value = value


def test_stack_kubeconfig_uses_automation_api_lazily(monkeypatch):
    calls = {}

    class Stack:
        def outputs(self):
            return {"kubeconfig": _Out("apiVersion: v1\nkind: Config\n")}

    def select_stack(stack_name, work_dir):
        calls.update(stack_name=stack_name, work_dir=work_dir)
        return Stack()

    auto = types.ModuleType("pulumi.automation")
    auto.select_stack = select_stack
    pulumi = types.ModuleType("pulumi")
    pulumi.automation = auto
    monkeypatch.setitem(sys.modules, "pulumi", pulumi)
    monkeypatch.setitem(sys.modules, "pulumi.automation", auto)
    assert stack.stack_kubeconfig("dev").startswith("apiVersion: v1")
    assert calls == {"stack_name": "dev", "work_dir": str(stack.project_dir())}
    assert (stack.project_dir() / "timing" / "__init__.py").exists()


def _project(folder, name="acr-streaming-ab"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
    return folder


def test_the_project_is_found_in_the_current_folder_or_above_it(tmp_path, monkeypatch):
    project = _project(tmp_path / "checkout")
    _project(project / "nested", name="someone-else")  # another project's Pulumi.yaml is passed over
    deep = project / "nested" / "results" / "run-1"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert stack.project_dir() == project.resolve()


def test_outside_a_project_the_checkout_timing_runs_from_is_used(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert stack.project_dir() == stack.SOURCE_ROOT
    assert (stack.SOURCE_ROOT / "Pulumi.yaml").is_file()


def test_an_installed_copy_outside_a_project_says_where_to_run(tmp_path, monkeypatch):
    installed = tmp_path / "site-packages"
    installed.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "Pulumi.yaml").write_text(":: not yaml [")
    monkeypatch.setattr(stack, "SOURCE_ROOT", installed)
    monkeypatch.chdir(tmp_path / "elsewhere")
    with pytest.raises(TimingError) as raised:
        stack.project_dir()
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("--stack needs the acr-streaming-ab project: no Pulumi.yaml named 'acr-streaming-ab' in ")
    assert message.endswith("run from the project's folder (the one with Pulumi.yaml)")
    stack.stack_outputs.cache_clear()
    monkeypatch.setattr(stack, "_automation", lambda: types.SimpleNamespace(select_stack=None))
    with pytest.raises(TimingError, match=r"^--stack needs the acr-streaming-ab project"):
        stack.stack_outputs("dev")  # not wrapped in "reading its outputs failed"
    stack.stack_outputs.cache_clear()


def test_without_the_stack_extra_stack_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pulumi", None)  # an install without acr-streaming-ab-timing[stack]
    stack.stack_outputs.cache_clear()
    with pytest.raises(
        TimingError,
        match=r"^--stack needs the Pulumi Automation API: from the project's folder, pipx install --force '\.\[stack\]'",
    ):
        stack.stack_outputs("dev")
    with pytest.raises(TimingError, match=r"^--stack needs the Pulumi Automation API"):
        stack.PulumiStack("dev")
    stack.stack_outputs.cache_clear()


def test_stack_outputs_are_read_once_and_failures_name_the_stack(monkeypatch):
    reads = []

    def read_outputs(name):
        reads.append(name)
        if name == "broken":
            raise RuntimeError("error: no stack named 'broken' found\nmore detail")
        return {"images": _Out({"busybox": {"ref": "r:1"}})}

    monkeypatch.setattr(stack, "read_outputs", read_outputs)
    stack.stack_outputs.cache_clear()
    try:
        assert stack.stack_outputs("dev") == {"images": {"busybox": {"ref": "r:1"}}}
        assert stack.stack_outputs("dev") == {"images": {"busybox": {"ref": "r:1"}}}
        assert reads == ["dev"]
        with pytest.raises(TimingError, match=r"^--stack broken: reading its outputs failed: error: no stack named"):
            stack.stack_outputs("broken")
    finally:
        stack.stack_outputs.cache_clear()
