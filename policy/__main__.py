"""The acr-streaming-ab policy pack: `pulumi preview --policy-pack policy`.

Every check lives in `rules.py` as a function over property dicts; this module only binds each one to
the resource type or stack view it applies to. All policies are mandatory: a violation fails the
preview or update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import rules
from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

PACK_NAME = "acr-streaming-ab"


def resource_policy(
    name: str, description: str, resource_type: str, check: Callable[[Mapping[str, Any]], list[str]]
) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type != resource_type:
            return
        for message in check(args.props):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=EnforcementLevel.MANDATORY
    )


def stack_resources(args: StackValidationArgs) -> list[rules.Resource]:
    return [
        rules.Resource(
            type=r.resource_type,
            urn=r.urn,
            name=r.name,
            props=r.props,
            additional_secret_outputs=tuple(r.opts.additional_secret_outputs or ()),
        )
        for r in args.resources
    ]


def stack_policy(
    name: str, description: str, check: Callable[[list[rules.Resource]], list[tuple[str, str]]]
) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for urn, message in check(stack_resources(args)):
            report_violation(message, urn)

    return StackValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=EnforcementLevel.MANDATORY
    )


POLICIES = [
    stack_policy(
        "registry-premium-when-streaming",
        "The registry is Premium whenever a pool streams or a streaming artifact exists.",
        rules.premium_sku_violations,
    ),
    resource_policy(
        "registry-no-admin-no-anonymous-pull",
        "The registry's admin user and anonymous pull are off.",
        rules.REGISTRY,
        rules.registry_access_violations,
    ),
    stack_policy(
        "kubelet-acrpull-on-registry-only",
        "The cluster's kubelet identity holds AcrPull scoped to the registry and no other role.",
        rules.kubelet_role_violations,
    ),
    resource_policy(
        "streaming-pool-supported-node",
        "Pools with artifact streaming are Linux/AMD64, not OS Guard, not Kata sandboxed, not confidential.",
        rules.EXPERIMENT_POOL,
        rules.streaming_pool_violations,
    ),
    resource_policy(
        "system-pool-tainted",
        "The inline system pool is tainted CriticalAddonsOnly=true:NoSchedule.",
        rules.CLUSTER,
        rules.system_pool_violations,
    ),
    stack_policy(
        "kubeconfig-only-as-its-secret-output",
        "The stack exports `kubeconfig` (secret) and no other output carries kubeconfig material.",
        rules.kubeconfig_output_violations,
    ),
]

if __name__ == "__main__":
    # The engine starts the pack with runpy (run_name="__main__"); tests import this module under
    # another name to reach POLICIES without starting the analyzer's gRPC server.
    PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
