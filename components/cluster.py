"""`StreamingCluster`: the AKS cluster, its pull access to the registry, and the experiment pools.

Design notes: docs/providers.md ("components/cluster.py").
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pulumi
import yaml
from pulumi_azure_native import authorization, containerregistry, containerservice

from components.pool_body import pool_properties, pool_summary
from contract import ACR_PULL_ROLE_ID, PROJECT, SYSTEM_POOL_NAME, SYSTEM_POOL_TAINT
from providers.acr_token_credentials import TokenCredentials, dockerconfigjson
from providers.aks_agent_pool import ExperimentPool
from providers.base import AzureTarget
from stackconfig.model import ClusterConfig, PoolConfig, TimeoutsConfig

TYPE = "acr-streaming-ab:cluster:StreamingCluster"
# Fixed namespace for the role assignment names: the same (scope, principal, role) always gives the
# same GUID, so a re-run or a re-created state finds the existing assignment instead of adding one.
ROLE_ASSIGNMENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:acr-streaming-ab:role-assignment")
# Built-in scope map of every registry: pull (content/read, metadata/read) on all repositories.
PULL_SCOPE_MAP = "_repositories_pull"
# Azure Kubernetes Service RBAC Cluster Admin (built-in): what the deploying identity needs on a cluster
# without local accounts to create the workloads' namespace and objects through the Kubernetes API.
AKS_RBAC_CLUSTER_ADMIN_ROLE_ID = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"

_ARM_ID_RE = re.compile(r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/", re.IGNORECASE)


@dataclass
class StreamingClusterArgs:
    location: str
    name_prefix: str
    resource_group_name: pulumi.Input[str]
    cluster: ClusterConfig
    pools: tuple[PoolConfig, ...]
    cache_generation: int
    timeouts: TimeoutsConfig
    registry_id: pulumi.Input[str]
    registry_name: pulumi.Input[str]
    azure: AzureTarget
    stack_name: str  # experiment stacks of one namePrefix share a registry: the pull token is per stack
    # Who runs `pulumi up` (authorization.get_client_config): with cluster.localAccounts false and no
    # cluster.adminObjectIds it gets AKS RBAC Cluster Admin, since the Kubernetes provider signs in as it.
    deployer_object_id: pulumi.Input[str] | None = None


def access_arguments(config: ClusterConfig, tenant_id: pulumi.Input[str]) -> dict[str, Any]:
    """How the cluster is reached: network policy engine, API server ranges, Entra ID sign-in."""
    arguments: dict[str, Any] = {}
    if config.network_policy == "cilium":
        # Azure CNI overlay on the Cilium dataplane: the engine that enforces the workload namespace's
        # NetworkPolicies (components/network_policies.py). Changing the profile replaces a cluster;
        # `none` declares no profile at all, as clusters created before this key did.
        arguments["network_profile"] = containerservice.ContainerServiceNetworkProfileArgs(
            network_plugin="azure", network_plugin_mode="overlay", network_dataplane="cilium", network_policy="cilium"
        )
    if config.authorized_ip_ranges:
        arguments["api_server_access_profile"] = containerservice.ManagedClusterAPIServerAccessProfileArgs(
            authorized_ip_ranges=list(config.authorized_ip_ranges)
        )
    if not config.local_accounts:
        arguments["aad_profile"] = containerservice.ManagedClusterAADProfileArgs(
            managed=True, enable_azure_rbac=True, tenant_id=tenant_id
        )
        arguments["disable_local_accounts"] = True
    return arguments


def kubelogin_kubeconfig(kubeconfig: str) -> str:
    """AKS's Entra ID kubeconfig with no fixed kubelogin `--login`: `AAD_LOGIN_METHOD` chooses it.

    AKS writes `--login devicecode`, which waits for a person; without the flag kubelogin reads the
    method from the environment (`azurecli` on a workstation, `workloadidentity` in CI).
    """
    document = yaml.safe_load(kubeconfig)
    for user in document.get("users") or []:
        exec_ = (user.get("user") or {}).get("exec")
        if not exec_ or "kubelogin" not in str(exec_.get("command", "")):
            continue
        args, kept = list(exec_.get("args") or []), []
        while args:
            arg = args.pop(0)
            if arg in ("--login", "-l"):
                args = args[1:]
            elif not arg.startswith("--login="):
                kept.append(arg)
        exec_["args"] = kept
    return yaml.safe_dump(document, sort_keys=False)


def pull_token_name(name_prefix: str, stack_name: str) -> str:
    """`aks-pull-<prefix>-<stack>`: 5-50 lowercase letters, digits and '-', unique per stack within a registry.

    ARM names ignore case, so a stack name that had to be lowercased or cleaned (`exp.1`, `exp_1`, `Exp`)
    also gets a hash of its exact spelling; names that needed no change stay as they were. Too long, it
    keeps its start and ends in a hash of the whole, so two stacks never share one.
    """
    wanted = f"aks-pull-{name_prefix}-{stack_name}"
    full = re.sub(r"[^a-z0-9-]+", "-", wanted.lower())
    if full != wanted:
        full = f"{full}-{hashlib.sha256(wanted.encode()).hexdigest()[:8]}"
    if len(full) <= 50:
        return full
    return f"{full[:41]}-{hashlib.sha256(full.encode()).hexdigest()[:8]}"


def refuse_irreversible_changes(args: pulumi.ResourceHookArgs) -> None:
    """Before a cluster update (and its preview): AKS cannot switch an OIDC issuer off, nor remove Entra ID.

    The old outputs are the cluster as Azure last reported it, so the engine's own diff decides, not
    a guess at the previous config.
    """
    was = ((args.old_outputs or {}).get("oidcIssuerProfile") or {}).get("enabled")
    wanted = ((args.new_inputs or {}).get("oidcIssuerProfile") or {}).get("enabled")
    if was is True and wanted is False:
        raise ValueError(
            f"{PROJECT}:cluster.oidcIssuer: true -> false is refused: AKS cannot disable the OIDC issuer of "
            f"cluster {args.name} once enabled; allowed: true (or tear the cluster down first)"
        )
    entra_was = ((args.old_outputs or {}).get("aadProfile") or {}).get("managed")
    if entra_was is True and not ((args.new_inputs or {}).get("aadProfile") or {}).get("managed"):
        raise ValueError(
            f"{PROJECT}:cluster.localAccounts: false -> true is refused: AKS cannot remove the Entra ID "
            f"integration of cluster {args.name}; allowed: false (or tear the cluster down first)"
        )


def role_assignment_name(scope: str, principal_id: str, role_id: str) -> str:
    """Deterministic GUID for a role assignment; ARM ids are case-insensitive, so is the name."""
    return str(uuid.uuid5(ROLE_ASSIGNMENT_NAMESPACE, "|".join((scope.lower(), principal_id.lower(), role_id.lower()))))


def arm_id_part(resource_id: str, part: str) -> str:
    """`sub` or `rg` of an ARM resource id such as the registry's (the token lives in its group)."""
    match = _ARM_ID_RE.match(resource_id)
    if match is None:
        raise ValueError(f"{resource_id!r} is not an Azure resource id (/subscriptions/.../resourceGroups/...)")
    return match.group(part)


def acr_pull_command(principal_id: str, registry_id: str) -> str:
    """What an administrator runs for `cluster.acrPull: external` (the assignment `attach` declares)."""
    return (
        f"az role assignment create --assignee-object-id {principal_id} --assignee-principal-type ServicePrincipal "
        f"--role AcrPull --scope {registry_id}"
    )


def kubeconfig_from_credentials(kubeconfigs: list[Any]) -> str:
    """The first kubeconfig of listClusterUserCredential, which ARM returns base64-encoded."""
    if not kubeconfigs:
        raise ValueError("AKS returned no user kubeconfig (listClusterUserCredential answered an empty list)")
    first = kubeconfigs[0]
    value = first["value"] if isinstance(first, dict) else first.value
    return base64.b64decode(value).decode("utf-8")


class StreamingCluster(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    resource_group_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str | None]
    pools_summary: pulumi.Output[dict]
    pool_resources: dict[str, ExperimentPool]
    kubelet_object_id: pulumi.Output[str]
    image_pull_secret_dockerconfigjson: pulumi.Output[str] | None
    acr_pull_command: pulumi.Output[str | None]

    def __init__(self, name: str, args: StreamingClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self.managed_cluster = self._managed_cluster(name, args)
        self.cluster_name = self.managed_cluster.name
        self.resource_group_name = pulumi.Output.from_input(args.resource_group_name)
        self.kubelet_object_id = self.managed_cluster.identity_profile.apply(
            lambda profile: profile["kubeletidentity"].object_id
        )
        oidc_issuer = args.cluster.oidc_issuer
        self.oidc_issuer_url = self.managed_cluster.oidc_issuer_profile.apply(
            lambda profile: profile.issuer_url if oidc_issuer and profile is not None else None
        )
        self.kubeconfig = self._kubeconfig(name, args)

        self.acr_pull_role_assignment: authorization.RoleAssignment | None = None
        self.image_pull_secret_dockerconfigjson = None
        self.acr_pull_command = pulumi.Output.from_input(None)
        if args.cluster.pull_mode == "token":
            self._pull_token(name, args)
        elif args.cluster.acr_pull == "assign":
            self._attach_registry(name, args)
        else:
            # No rights to assign roles: an administrator does, and the workloads' pull checks wait for it.
            self.acr_pull_command = pulumi.Output.all(self.kubelet_object_id, args.registry_id).apply(
                lambda parts: acr_pull_command(parts[0], parts[1])
            )

        self.pool_resources = self._experiment_pools(name, args)
        names = [pool.name for pool in args.pools]
        self.pools_summary = pulumi.Output.all(*[self.pool_resources[n].properties for n in names]).apply(
            lambda applied: {n: pool_summary(props) for n, props in zip(names, applied, strict=False)}
        )

        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "resourceGroupName": self.resource_group_name,
                "kubeconfig": self.kubeconfig,
                "oidcIssuerUrl": self.oidc_issuer_url,
                "pools": self.pools_summary,
                "kubeletObjectId": self.kubelet_object_id,
                "imagePullSecretDockerconfigjson": self.image_pull_secret_dockerconfigjson,
                "acrPullCommand": self.acr_pull_command,
            }
        )

    def _managed_cluster(self, name: str, args: StreamingClusterArgs) -> containerservice.ManagedCluster:
        """The cluster with its system pool only; the experiment pools are `ExperimentPool` resources."""
        config = args.cluster
        cluster_name = f"{args.name_prefix}-aks"
        oidc_guard = pulumi.ResourceHook(
            f"{name}-irreversible-settings", refuse_irreversible_changes, pulumi.ResourceHookOptions(on_dry_run=True)
        )
        return containerservice.ManagedCluster(
            f"{name}-aks",
            resource_group_name=args.resource_group_name,
            resource_name_=cluster_name,
            location=args.location,
            dns_prefix=cluster_name,
            kubernetes_version=config.kubernetes_version,
            enable_rbac=True,
            identity=containerservice.ManagedClusterIdentityArgs(type="SystemAssigned"),
            sku=containerservice.ManagedClusterSKUArgs(name="Base", tier=config.sku_tier),
            oidc_issuer_profile=containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=config.oidc_issuer),
            # No upgrade or reimage under a running experiment (since API 2023-06-01 AKS defaults to a weekly
            # NodeImage OS upgrade): upgrades happen by hand between experiments (docs/operations.md).
            auto_upgrade_profile=containerservice.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel=containerservice.UpgradeChannel.NONE,
                node_os_upgrade_channel=containerservice.NodeOSUpgradeChannel.NONE,
            ),
            **access_arguments(config, args.azure.tenant_id),
            agent_pool_profiles=[
                containerservice.ManagedClusterAgentPoolProfileArgs(
                    name=SYSTEM_POOL_NAME,
                    mode="System",
                    count=config.system_pool.count,
                    vm_size=config.system_pool.vm_size,
                    os_type="Linux",
                    os_sku=config.system_pool.os_sku,
                    type="VirtualMachineScaleSets",
                    orchestrator_version=config.kubernetes_version,
                    node_taints=[SYSTEM_POOL_TAINT],
                )
            ],
            # No ignore_changes on agentPoolProfiles: after `pulumi refresh` the stored inputs hold every
            # live pool, and ignoring changes would send that stale list back (pulumi-azure-native#2719).
            # Declared, the list is always the system pool alone; the experiment pools are their own
            # resources. It also lets the system pool's orchestratorVersion follow a pinned version.
            opts=pulumi.ResourceOptions(parent=self, hooks=pulumi.ResourceHookBinding(before_update=[oidc_guard])),
        )

    def _kubeconfig(self, name: str, args: StreamingClusterArgs) -> pulumi.Output[str]:
        """The user kubeconfig (listClusterUserCredential), as a secret; Entra ID only: a kubelogin one,
        handed out once the deploying identity may use it (AKS RBAC Cluster Admin on the cluster)."""
        entra_only = not args.cluster.local_accounts
        credentials = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=args.resource_group_name,
            resource_name=self.managed_cluster.name,
            format="exec" if entra_only else None,
            # Only once the cluster exists (a preview of a new cluster must not ask Azure for it).
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[self.managed_cluster]),
        )
        kubeconfig = credentials.kubeconfigs.apply(kubeconfig_from_credentials)
        if entra_only:
            admins = self._cluster_admins(name, args)
            kubeconfig = pulumi.Output.all(kubeconfig, *[admin.id for admin in admins]).apply(
                lambda parts: kubelogin_kubeconfig(parts[0])
            )
        return pulumi.Output.secret(kubeconfig)

    def _cluster_admins(self, name: str, args: StreamingClusterArgs) -> list[authorization.RoleAssignment]:
        """AKS RBAC Cluster Admin for each of cluster.adminObjectIds, or else for whoever deploys.

        Named by (cluster, principal, role): a listed principal's assignment never moves, and the
        deployer's follows the runner only when nobody is listed (docs/operations.md).
        """
        role_definition_id = pulumi.Output.concat(
            "/subscriptions/",
            args.azure.subscription_id,
            "/providers/Microsoft.Authorization/roleDefinitions/",
            AKS_RBAC_CLUSTER_ADMIN_ROLE_ID,
        )

        deployer_resource = f"{name}-deployer-rbac-admin"

        def assignment(
            resource_name: str, principal_id: pulumi.Input[str], aliases: list[pulumi.Alias]
        ) -> authorization.RoleAssignment:
            assignment_name = pulumi.Output.all(self.managed_cluster.id, principal_id).apply(
                lambda parts: role_assignment_name(parts[0], parts[1], AKS_RBAC_CLUSTER_ADMIN_ROLE_ID)
            )
            # Azure holds one assignment per (scope, principal, role): a renamed one must go first.
            options = pulumi.ResourceOptions(parent=self, delete_before_replace=True, aliases=aliases)
            return authorization.RoleAssignment(
                resource_name,
                role_assignment_name=assignment_name,
                principal_id=principal_id,
                role_definition_id=role_definition_id,
                scope=self.managed_cluster.id,
                opts=options,
            )

        if args.cluster.admin_object_ids:
            # The first one listed takes over the deployer's assignment of an earlier run: listed first,
            # the deployer keeps it in place when the key is set.
            return [
                assignment(f"{name}-rbac-admin-{oid}", oid, [pulumi.Alias(name=deployer_resource)] if i == 0 else [])
                for i, oid in enumerate(args.cluster.admin_object_ids)
            ]
        if args.deployer_object_id is None:
            raise ValueError("cluster.localAccounts false needs the deploying identity (deployer_object_id)")
        return [assignment(deployer_resource, args.deployer_object_id, [])]

    def _experiment_pools(self, name: str, args: StreamingClusterArgs) -> dict[str, ExperimentPool]:
        """One `ExperimentPool` per configured pool, chained: AKS rejects a second agent-pool operation."""
        pools: dict[str, ExperimentPool] = {}
        previous: ExperimentPool | None = None
        for pool in args.pools:
            previous = ExperimentPool(
                f"{name}-pool-{pool.name}",
                azure=args.azure,
                resource_group_name=args.resource_group_name,
                cluster_name=self.managed_cluster.name,
                pool_name=pool.name,
                properties=pool_properties(pool, args.cluster.kubernetes_version),
                cache_generation=args.cache_generation,
                timeout_minutes=args.timeouts.pool_minutes,
                # The chain: AKS rejects a second agent-pool operation while one runs.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[previous] if previous is not None else []),
            )
            pools[pool.name] = previous
        return pools

    def _attach_registry(self, name: str, args: StreamingClusterArgs) -> None:
        """`az aks update --attach-acr`: AcrPull for the kubelet identity on the registry."""
        registry_id = pulumi.Output.from_input(args.registry_id)
        # Built-in role definitions exist under every subscription with the same GUID: the one named is
        # the registry's own (a registry stack's may be another subscription than this stack's).
        role_definition_id = pulumi.Output.concat(
            "/subscriptions/",
            registry_id.apply(lambda rid: arm_id_part(rid, "sub")),
            "/providers/Microsoft.Authorization/roleDefinitions/",
            ACR_PULL_ROLE_ID,
        )
        assignment_name = pulumi.Output.all(registry_id, self.kubelet_object_id).apply(
            lambda parts: role_assignment_name(parts[0], parts[1], ACR_PULL_ROLE_ID)
        )
        self.acr_pull_role_assignment = authorization.RoleAssignment(
            f"{name}-acrpull",
            role_assignment_name=assignment_name,
            principal_id=self.kubelet_object_id,
            # Without it ARM looks the principal up in the directory, which fails for a few minutes after
            # AKS created the identity (PrincipalNotFound).
            principal_type="ServicePrincipal",
            role_definition_id=role_definition_id,
            scope=registry_id,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _pull_token(self, name: str, args: StreamingClusterArgs) -> None:
        """For users who cannot assign roles on the registry: a pull-only token and a pull secret."""
        registry_id = pulumi.Output.from_input(args.registry_id)
        registry_group = registry_id.apply(lambda rid: arm_id_part(rid, "rg"))
        token = containerregistry.Token(
            f"{name}-pull-token",
            registry_name=args.registry_name,
            resource_group_name=registry_group,
            token_name=pull_token_name(args.name_prefix, args.stack_name),
            scope_map_id=registry_id.apply(lambda rid: f"{rid}/scopeMaps/{PULL_SCOPE_MAP}"),
            status="enabled",
            opts=pulumi.ResourceOptions(parent=self),
        )
        password = TokenCredentials(
            f"{name}-pull-token-password",
            azure=args.azure,
            resource_group_name=registry_group,
            registry_name=args.registry_name,
            token_id=token.id,
            password_name="password1",
            timeout_minutes=args.timeouts.pool_minutes,
            opts=pulumi.ResourceOptions(parent=self),
        )
        login_server = containerregistry.get_registry_output(
            registry_name=args.registry_name,
            resource_group_name=registry_group,
            # After the token, hence after the registry: on a first `pulumi up` it does not exist before.
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[token]),
        ).login_server
        self.pull_token = token
        self.pull_token_password = password
        self.image_pull_secret_dockerconfigjson = pulumi.Output.secret(
            pulumi.Output.all(login_server, password.username, password.password).apply(
                lambda parts: dockerconfigjson(parts[0], parts[1], parts[2])
            )
        )
