"""Adapters between ``measure`` and the outside world (cluster, Pulumi stack, clock).

``measure`` only talks to these small interfaces, so tests drive it with a
fake cluster and a fake clock and never need a real API server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from timing.sources.inputs import PROJECT_ROOT, list_raw

CACHE_GENERATION_KEY = "acr-streaming-ab:cacheGeneration"


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class KubeCluster:
    """The few API calls ``measure`` makes; list calls return kubectl-shaped JSON."""

    def __init__(self, api_client):
        from kubernetes import client as k

        self.core = k.CoreV1Api(api_client)
        self.apps = k.AppsV1Api(api_client)

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
            return self.core.read_namespaced_pod_log(name, namespace, container=container, limit_bytes=limit_bytes)
        except ApiException:
            return None

    def list_pods(self, namespace: str, selector: str) -> list[dict]:
        return list_raw(self.core.list_namespaced_pod, namespace, label_selector=selector).get("items", [])

    def list_events(self, namespace: str) -> list[dict]:
        return list_raw(self.core.list_namespaced_event, namespace, field_selector="involvedObject.kind=Pod").get(
            "items", []
        )

    def list_nodes(self, selector: str) -> list[dict]:
        return list_raw(self.core.list_node, label_selector=selector).get("items", [])

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


class PulumiStack:
    """``cacheGeneration`` config and ``pulumi up`` through the Automation API."""

    def __init__(self, stack_name: str, work_dir: Path | None = None):
        from pulumi import automation as auto  # lazy: only --reset recycle needs Pulumi

        self._auto = auto
        self.stack = auto.select_stack(stack_name=stack_name, work_dir=str(work_dir or PROJECT_ROOT))

    def get_generation(self) -> int:
        try:
            value = self.stack.get_config(CACHE_GENERATION_KEY).value
        except self._auto.CommandError:
            return 0  # key not set yet: the component's default generation
        return int(value)

    def set_generation(self, value: int) -> None:
        self.stack.set_config(CACHE_GENERATION_KEY, self._auto.ConfigValue(value=str(value)))

    def up(self, on_output: Callable[[str], None]) -> None:
        self.stack.up(on_output=on_output)
