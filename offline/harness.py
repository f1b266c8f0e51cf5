"""Evaluates a Pulumi program in-process under `pulumi.runtime.set_mocks` and records what it declared.

`evaluate(program, config)` runs `program()` (which declares resources and returns the exports), and
returns an `Evaluation` with every registered resource: type, name, parent, inputs exactly as sent to
the engine, the URNs it depends on (explicit `depends_on` and those carried by its input Outputs),
resource options (ignoreChanges, deleteBeforeReplace, additionalSecretOutputs), and the resolved
exports with their secret flag. Nothing reaches a cloud: computed outputs come from `offline/fakes/`.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from offline import fakes

fakes.load_all()

PROJECT = "acr-streaming-ab"


@dataclass
class Declared:
    urn: str
    type: str
    name: str
    parent: str
    inputs: dict[str, Any]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    custom: bool
    delete_before_replace: bool
    ignore_changes: list[str]
    additional_secret_outputs: list[str]
    id: str = ""
    state: dict[str, Any] = field(default_factory=dict)
    protect: bool = False
    custom_timeouts: dict[str, str] = field(default_factory=dict)  # create/update/delete as given
    aliases: list[str] = field(default_factory=list)  # names it was known by (alias specs' names)
    # (name, type) of every alias spec; a spec that gives no name or type keeps the resource's own.
    alias_keys: list[tuple[str, str]] = field(default_factory=list)
    before_update_hooks: list[str] = field(default_factory=list)  # resource hook names


class StackMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        computed = {}
        fake = fakes.RESOURCE_FAKES.get(args.typ)
        if fake is not None:
            computed = fake(args.name, dict(args.inputs))
        state = {**args.inputs, **computed}
        return computed.get("id", f"{args.name}-id"), state

    def call(self, args: pulumi.runtime.MockCallArgs):
        fake = fakes.CALL_FAKES.get(args.token)
        if fake is None:
            raise AssertionError(f"the program invoked {args.token}, which no test fake answers")
        return fake(dict(args.args))


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.declared: list[Declared] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            registration = self.resources[response.urn]
            self.declared.append(
                Declared(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent,
                    inputs=pulumi.runtime.rpc.deserialize_properties(request.object),
                    dependencies=list(request.dependencies),
                    property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                    custom=bool(request.custom),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    ignore_changes=list(request.ignoreChanges),
                    additional_secret_outputs=list(request.additionalSecretOutputs),
                    id=response.id,
                    state=dict(registration.state or {}),
                    protect=bool(request.protect),
                    custom_timeouts={
                        key: getattr(request.customTimeouts, key)
                        for key in ("create", "update", "delete")
                        if getattr(request.customTimeouts, key)
                    },
                    aliases=[a.spec.name for a in request.aliases if a.HasField("spec") and a.spec.name],
                    alias_keys=[
                        (a.spec.name or request.name, a.spec.type or request.type)
                        for a in request.aliases
                        if a.HasField("spec")
                    ],
                    before_update_hooks=list(request.hooks.before_update),
                )
            )
        return response


@dataclass
class Evaluation:
    resources: list[Declared]
    outputs: dict[str, Any]
    secret_outputs: set[str]

    def of_type(self, type_token: str) -> list[Declared]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, name: str) -> Declared:
        matches = [r for r in self.resources if r.name == name]
        assert len(matches) == 1, f"expected one resource named {name!r}, found {len(matches)}"
        return matches[0]

    def by_urn(self, urn: str) -> Declared:
        return next(r for r in self.resources if r.urn == urn)

    def direct_dependencies(self, resource: Declared) -> set[str]:
        urns = set(resource.dependencies)
        for deps in resource.property_dependencies.values():
            urns.update(deps)
        return urns

    def depends_on(self, resource: Declared, other: Declared) -> bool:
        """True when `resource` waits for `other`, directly or through a chain of dependencies.

        A dependency on a component means waiting for all of that component's children.
        """
        seen: set[str] = set()
        stack = list(self.direct_dependencies(resource))
        while stack:
            urn = stack.pop()
            if urn in seen:
                continue
            seen.add(urn)
            if urn == other.urn:
                return True
            dependency = next((r for r in self.resources if r.urn == urn), None)
            if dependency is None:
                continue
            stack.extend(self.direct_dependencies(dependency))
            if not dependency.custom:  # a component: its children count as dependencies
                stack.extend(r.urn for r in self.resources if r.parent == urn)
        return False

    def children(self, parent: Declared) -> list[Declared]:
        return [r for r in self.resources if r.parent == parent.urn]


def config_values(values: dict[str, Any]) -> dict[str, str]:
    """Stack config as the engine hands it to the program: strings, structured values as JSON."""
    return {f"{PROJECT}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


# pulumi.dynamic's serialize_provider wraps pickle._Pickler._batch_setitems around the previous wrapper on
# every call and never restores it: over a test session the chain nears the recursion limit.
_PICKLER_METHODS = {name: getattr(pickle._Pickler, name) for name in ("_batch_setitems", "save_dict")}


def _restore_pickler() -> None:
    for name, method in _PICKLER_METHODS.items():
        setattr(pickle._Pickler, name, method)


def evaluate(
    program: Callable[[], dict[str, Any] | None],
    config: dict[str, Any] | None = None,
    stack: str = "dev",
    preview: bool = False,
    stack_references: dict[str, dict[str, Any]] | None = None,
) -> Evaluation:
    """Run `program` under mocks; `stack_references` are the outputs of the stacks it references."""
    from offline.fakes import stacks as referenced

    referenced.REFERENCED_STACKS.clear()
    referenced.REFERENCED_STACKS.update(stack_references or {})
    pulumi_settings.reset_options(project=PROJECT, stack=stack, preview=preview)
    pulumi.runtime.set_all_config(config_values(config or {}))
    monitor = RecordingMonitor(StackMocks())
    pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    outputs: dict[str, Any] = {}
    secrets: set[str] = set()

    async def collect() -> None:
        exports = program() or {}
        for key, value in exports.items():
            output = pulumi.Output.from_input(value)
            outputs[key] = await output.future(with_unknowns=False)
            if await output.is_secret():
                secrets.add(key)

    pulumi_settings.SETTINGS.rpc_manager.clear()
    try:
        _sync_await(run_pulumi_func(lambda: _sync_await(collect())))
    finally:
        _restore_pickler()
    return Evaluation(monitor.declared, outputs, secrets)
