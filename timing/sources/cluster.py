"""The cluster as ``measure`` and a live ``report`` see it: declared interfaces and their real adapters.

Both talk only to ``ClusterReader``/``Cluster`` and ``Clock``, so tests drive them with a fake
cluster and a fake clock and never need a real API server.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Protocol

APP_LOG_BYTES = 64 * 1024  # the start-up lines come first; the rest of a log is not needed


class ClusterReader(Protocol):
    """What a live ``report`` reads; list calls return kubectl-shaped items."""

    def list_pods(self, namespace: str, selector: str) -> list[dict]: ...

    def list_events(self, namespace: str) -> list[dict]: ...

    def list_nodes(self, selector: str) -> list[dict]: ...

    def read_pod_log(self, namespace: str, name: str, container: str, limit_bytes: int) -> str | None: ...


class Cluster(ClusterReader, Protocol):
    """What ``measure`` also changes (Deployments' scale and template labels, the purge DaemonSet) and checks
    before it starts (the stack's pull-check Jobs)."""

    def list_deployments(self, namespace: str, selector: str) -> list[dict]: ...

    def scale_deployment(self, namespace: str, name: str, replicas: int) -> None: ...

    def set_template_label(self, namespace: str, name: str, key: str, value: str) -> None: ...

    def create_namespace(self, body: dict) -> None: ...

    def delete_namespace(self, name: str) -> None: ...

    def create_daemonset(self, namespace: str, body: dict) -> None: ...

    def delete_daemonset(self, namespace: str, name: str) -> None: ...

    def list_jobs(self, namespace: str, selector: str) -> list[dict]: ...


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def api_client(kubeconfig: str | None = None, context: str | None = None, stack: str | None = None):
    """A ``kubernetes.client.ApiClient`` from a stack output, a kubeconfig file, or the current context."""
    import yaml
    from kubernetes import config as kconfig

    if stack:
        from timing.sources.stack import stack_kubeconfig

        return kconfig.new_client_from_config_dict(yaml.safe_load(stack_kubeconfig(stack)), context=context)
    return kconfig.new_client_from_config(config_file=kubeconfig, context=context)


def list_raw(call, *args, **kwargs) -> dict:
    """Call a ``list_*`` API method and return the JSON exactly as kubectl would print it."""
    resp = call(*args, _preload_content=False, **kwargs)
    return json.loads(resp.data)


class KubeCluster:
    """``Cluster`` over the Kubernetes API: the few calls ``measure`` and a live ``report`` make."""

    def __init__(self, api_client):
        from kubernetes import client as k

        self.core = k.CoreV1Api(api_client)
        self.apps = k.AppsV1Api(api_client)
        self.batch = k.BatchV1Api(api_client)

    def list_deployments(self, namespace: str, selector: str) -> list[dict]:
        return list_raw(self.apps.list_namespaced_deployment, namespace, label_selector=selector).get("items", [])

    def scale_deployment(self, namespace: str, name: str, replicas: int) -> None:
        self.apps.patch_namespaced_deployment_scale(name, namespace, {"spec": {"replicas": replicas}})

    def set_template_label(self, namespace: str, name: str, key: str, value: str) -> None:
        """Label the pods a Deployment creates from now on (measure sets it at 0 replicas: no rollout)."""
        body = {"spec": {"template": {"metadata": {"labels": {key: value}}}}}
        self.apps.patch_namespaced_deployment(name, namespace, body)

    def read_pod_log(self, namespace: str, name: str, container: str, limit_bytes: int) -> str | None:
        from kubernetes.client.exceptions import ApiException

        try:
            # With the runtime's timestamps: a custom app's ready line has no time of its own.
            return self.core.read_namespaced_pod_log(
                name, namespace, container=container, limit_bytes=limit_bytes, timestamps=True
            )
        except (ApiException, ValueError):
            return None  # no log (yet, or any more): no app-ready time, never a guessed one

    def list_pods(self, namespace: str, selector: str) -> list[dict]:
        return list_raw(self.core.list_namespaced_pod, namespace, label_selector=selector).get("items", [])

    def list_events(self, namespace: str) -> list[dict]:
        return list_raw(self.core.list_namespaced_event, namespace, field_selector="involvedObject.kind=Pod").get(
            "items", []
        )

    def list_nodes(self, selector: str) -> list[dict]:
        return list_raw(self.core.list_node, label_selector=selector).get("items", [])

    def list_jobs(self, namespace: str, selector: str) -> list[dict]:
        return list_raw(self.batch.list_namespaced_job, namespace, label_selector=selector).get("items", [])

    def create_namespace(self, body: dict) -> None:
        """Create it, or leave the one that exists (an earlier run's, still terminating, is waited out by the API)."""
        from kubernetes.client.exceptions import ApiException

        try:
            self.core.create_namespace(body)  # type: ignore[arg-type]  # a dict body is accepted
        except ApiException as exc:
            if exc.status != 409:
                raise

    def delete_namespace(self, name: str) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            self.core.delete_namespace(name, propagation_policy="Background")
        except ApiException as exc:
            if exc.status != 404:
                raise

    def create_daemonset(self, namespace: str, body: dict) -> None:
        self.apps.create_namespaced_daemon_set(namespace, body)  # type: ignore[arg-type]  # a dict body is accepted

    def delete_daemonset(self, namespace: str, name: str) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            self.apps.delete_namespaced_daemon_set(name, namespace, propagation_policy="Background")
        except ApiException as exc:
            if exc.status != 404:
                raise
