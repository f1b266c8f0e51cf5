"""The mock harness leaves no trace of one evaluation in the next."""

from __future__ import annotations

import pickle

import pulumi
from pulumi import dynamic

from offline.harness import evaluate


class _Echo(dynamic.ResourceProvider):
    def create(self, props):
        return dynamic.CreateResult(id_="echo", outs=props)


class _EchoResource(dynamic.Resource, module="test", name="Echo"):
    def __init__(self, name: str, value: int):
        super().__init__(_Echo(), name, {"value": value})


def _program_with_dynamic_resources():
    for index in range(3):
        _EchoResource(f"echo-{index}", index)
    return {"done": pulumi.Output.from_input(True)}


def test_pickler_is_restored_after_each_evaluation():
    # serialize_provider nests one more wrapper per dynamic resource; unrestored, the chain grows every test.
    before = pickle._Pickler._batch_setitems
    for _ in range(2):
        evaluate(_program_with_dynamic_resources)
        assert pickle._Pickler._batch_setitems is before
