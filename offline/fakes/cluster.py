"""Fakes for the cluster side: AKS cluster, its user credentials, experiment pools, registry pull token.

Only what Azure computes is returned (identities, issuer URL, FQDN, kubeconfig, token password); the
harness echoes the declared inputs. Values derive from the resource names so that two evaluations of
the same program see the same identities, like a stack whose resources already exist.
"""

from __future__ import annotations

import base64
import uuid

from offline.fakes import call_fake, resource_fake
from offline.fakes.azure_base import SUBSCRIPTION, TENANT

KUBECONFIG_TEMPLATE = """apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: REDACTED
    server: https://{fqdn}:443
  name: {cluster}
contexts:
- context:
    cluster: {cluster}
    user: clusterUser_{cluster}
  name: {cluster}
current-context: {cluster}
users:
- name: clusterUser_{cluster}
  user:
    token: fake-user-token
"""


# What listClusterUserCredential returns with format=exec for an Entra ID cluster (kubelogin exec plugin;
# 6dae42f8-... is the AKS AAD server application, 80faf920-... the Azure CLI public client).
ENTRA_USER_TEMPLATE = """users:
- name: clusterUser_{cluster}
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args:
      - get-token
      - --login
      - devicecode
      - --server-id
      - 6dae42f8-4368-4678-94ff-3960e28e3630
      - --client-id
      - 80faf920-1908-4b52-b5ef-a8e7bedfc67a
      - --tenant-id
      - {tenant}
      - --environment
      - AzurePublicCloud
      interactiveMode: IfAvailable
      provideClusterInfo: false
"""


def _stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "tests:" + "/".join(parts)))


def fqdn_of(cluster: str, location: str = "westus3") -> str:
    return f"{cluster}-dns-1a2b3c4d.hcp.{location}.azmk8s.io"


def kubelet_object_id_of(cluster: str) -> str:
    return _stable_uuid("kubelet", cluster)


@resource_fake("azure-native:containerservice:ManagedCluster")
def managed_cluster(name, inputs):
    cluster = inputs.get("resourceName", name)
    group = inputs.get("resourceGroupName", "rg")
    location = inputs.get("location", "westus3")
    node_group = f"MC_{group}_{cluster}_{location}"
    outputs = {
        "name": cluster,
        "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/Microsoft.ContainerService/"
        f"managedClusters/{cluster}",
        "fqdn": fqdn_of(cluster, location),
        "nodeResourceGroup": node_group,
        "identity": {
            "type": "SystemAssigned",
            "principalId": _stable_uuid("control-plane", cluster),
            "tenantId": TENANT,
        },
        "identityProfile": {
            "kubeletidentity": {
                "objectId": kubelet_object_id_of(cluster),
                "clientId": _stable_uuid("kubelet-client", cluster),
                "resourceId": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{node_group}/providers/"
                f"Microsoft.ManagedIdentity/userAssignedIdentities/{cluster}-agentpool",
            }
        },
        "provisioningState": "Succeeded",
    }
    if (inputs.get("oidcIssuerProfile") or {}).get("enabled"):
        outputs["oidcIssuerProfile"] = {
            "enabled": True,
            "issuerURL": f"https://{location}.oic.prod-aks.azure.com/{TENANT}/{_stable_uuid('oidc', cluster)}/",
        }
    return outputs


@call_fake("azure-native:containerservice:listManagedClusterUserCredentials")
def list_user_credentials(args):
    cluster = args.get("resourceName", "cluster")
    kubeconfig = KUBECONFIG_TEMPLATE.format(fqdn=fqdn_of(cluster), cluster=cluster)
    if args.get("format") == "exec":
        kubeconfig = kubeconfig.split("users:\n")[0] + ENTRA_USER_TEMPLATE.format(cluster=cluster, tenant=TENANT)
    return {"kubeconfigs": [{"name": "clusterUser", "value": base64.b64encode(kubeconfig.encode()).decode()}]}


@resource_fake("pulumi-python:dynamic/aks:ExperimentPool")
def experiment_pool(name, inputs):
    version = (inputs.get("properties") or {}).get("orchestratorVersion", "1.33")
    return {
        "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{inputs.get('resourceGroupName', 'rg')}/providers/"
        f"Microsoft.ContainerService/managedClusters/{inputs.get('clusterName', 'cluster')}/agentPools/"
        f"{inputs.get('poolName', name)}",
        "provisioningState": "Succeeded",
        "currentOrchestratorVersion": f"{version}.2",
        "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202608.01.0",
    }


@resource_fake("azure-native:containerregistry:Token")
def registry_token(name, inputs):
    token = inputs.get("tokenName", name)
    return {
        "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{inputs.get('resourceGroupName', 'rg')}/providers/"
        f"Microsoft.ContainerRegistry/registries/{inputs.get('registryName', 'registry')}/tokens/{token}",
        "name": token,
        "provisioningState": "Succeeded",
        "creationDate": "2026-08-01T00:00:00Z",
    }


@resource_fake("pulumi-python:dynamic/acr:TokenCredentials")
def token_credentials(name, inputs):
    token = str(inputs.get("tokenId", name)).rsplit("/", 1)[-1]
    return {
        "username": token,
        "password": f"fake-password-{_stable_uuid('password', token)[:8]}",
        "passwordCreationTime": "2026-08-01T00:00:00.0000000Z",
        "passwordExpiry": None,
    }


@call_fake("azure-native:containerregistry:getRegistry")
def get_registry(args):
    registry = args.get("registryName", "registry")
    group = args.get("resourceGroupName", "rg")
    return {
        "name": registry,
        "loginServer": f"{registry.lower()}.azurecr.io",
        "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/"
        f"Microsoft.ContainerRegistry/registries/{registry}",
        "sku": {"name": "Premium", "tier": "Premium"},
        "location": "westus3",
    }
