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
    assert calls == {"stack_name": "dev", "work_dir": str(stack.PROJECT_ROOT)}
    assert (stack.PROJECT_ROOT / "timing" / "__init__.py").exists()


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
