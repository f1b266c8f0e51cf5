"""Cluster access for both commands: the flags (--stack, --kubeconfig, --context) to a live ``KubeCluster``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from timing.errors import TimingError, UsageError, first_line
from timing.sources.stack import PULUMI_MISSING

if TYPE_CHECKING:
    from timing.sources.cluster import KubeCluster


def check_kubeconfig(args) -> None:
    if args.kubeconfig and not Path(args.kubeconfig).expanduser().is_file():
        raise UsageError(f"--kubeconfig {args.kubeconfig}: no such file")


def api_client_or_error(args):
    """A Kubernetes API client from the flags, or one line saying which flag or what is wrong."""
    from timing.sources.cluster import api_client

    try:
        return api_client(args.kubeconfig, args.context, args.stack)
    except TimingError:
        raise
    except FileNotFoundError as error:
        if "pulumi" in str(error):
            raise TimingError(f"--stack {PULUMI_MISSING}") from None
        raise UsageError(
            "no kubeconfig: give --stack NAME, --kubeconfig PATH or set KUBECONFIG (or read dumps with --pods/--events)"
        ) from None
    except Exception as error:  # noqa: BLE001 - kubeconfig and Pulumi errors come in many types
        text = first_line(error)
        if "Invalid kube-config" in text or "kube-config" in text or "kubeconfig" in text.lower():
            raise UsageError(
                f"no usable kubeconfig ({text}): give --stack NAME, --kubeconfig PATH or set KUBECONFIG"
            ) from None
        if "passphrase" in text.lower():
            raise UsageError(
                f"--stack {args.stack}: the stack's secrets need PULUMI_CONFIG_PASSPHRASE (or _FILE) ({text})"
            ) from None
        raise TimingError(f"cannot reach the cluster: {text}") from None


def connect(args) -> KubeCluster:
    """The live cluster the flags name, as both ``report`` and ``measure`` read it."""
    from timing.sources.cluster import KubeCluster

    return KubeCluster(api_client_or_error(args))
