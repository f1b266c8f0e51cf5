"""A fake Kubernetes cluster for ``timing measure``: image caches per node, in fake time; a fake Pulumi stack.

The objects it lists are built by offline.kube_objects; time is an offline.clock.FakeClock.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from offline import kube_objects as kube
from offline.clock import FakeClock
from timing.model.kube_time import format_micro_time
from timing.sources.selectors import parse_selector


class FakeCluster:
    """Deployments, pods, kubelet pull events and per-node image caches, all in fake time.

    A pod pulls an image (cold) unless its node's cache already has it
    (warm, "already present"); purge/recycle clear the caches.  A streaming
    node streams (overlaybd: backstores, cached blocks, exporter bytes)
    unless its pool is in ``fallback_pools`` (a silent overlayfs pull).
    The node probe DaemonSet answers from that state.  Failure knobs:
    ``failing_images`` (pull fails, pod never Ready), ``purge_fail_nodes``
    (purge init container exits 1), ``purge_broken`` (purge reports success
    but leaves the caches), ``purge_leaves_blocks`` (images go, overlaybd's
    cached blocks stay), ``probe_fail_nodes`` (probe exits 1),
    ``probe_create_errors`` (the next N probe DaemonSets are refused).
    """

    def __init__(self, clock: FakeClock, pools, workloads, namespace="streaming-ab"):
        self.clock = clock
        self.ns = namespace
        self._ids = itertools.count(1)
        self.pools = pools  # pool -> {"streaming": bool, "nodes": n}
        self.nodes: list[dict[str, Any]] = []
        for pool, cfg in pools.items():
            for i in range(cfg["nodes"]):
                self.nodes.append(self._node(pool, cfg["streaming"], i, ready_at=-1.0))
        self.deployments: dict[str, dict[str, Any]] = {}
        for w in workloads:
            for arm in w["arms"]:
                for comp, image in w["components"].items():
                    name = f"{arm['name']}-{comp}"
                    self.deployments[name] = {
                        "name": name,
                        "replicas": arm.get("replicas", 1),
                        "pool": arm["pool"],
                        "image": image,
                        "container": comp,
                        "labels": {
                            "app.kubernetes.io/part-of": "acr-streaming-ab",
                            "app.kubernetes.io/name": comp,
                            "streaming-ab/arm": arm["name"],
                            "streaming-ab/streaming": "true" if arm["streaming"] else "false",
                            "streaming-ab/workload": w["name"],
                            "streaming-ab/pair": w.get("pair", "p1"),
                            "streaming-ab/pool": arm["pool"],
                        },
                    }
        self.pods: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.daemonsets: dict[str, dict[str, Any]] = {}
        # The stack's pull-check Job per pool: its finished condition ("Complete", "Failed"), None while it
        # runs; a pool left out has no Job.
        self.pull_checks: dict[str, str | None] = dict.fromkeys(pools, "Complete")
        self.ds_pods: list[dict[str, Any]] = []
        self.scale_calls: list[tuple[float, str, int]] = []
        self.list_calls: list[tuple[str, str, str | None]] = []
        self.failing_images: set[str] = set()
        self.purge_fail_nodes: set[str] = set()
        self.purge_broken = False
        self.pull_seconds = {False: 30.0, True: 5.0}
        self.label_calls: list[tuple[str, str, str]] = []
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.delete_failures = 0  # the next N DaemonSet deletions fail with an API error
        self.app_read_seconds: float | None = None  # set: pods log an app-ready line this long after they start
        self.fallback_pools: set[str] = set()
        self.nodemon_events = False  # set: AKS's acr-nodemon posts its "Streaming enabled" event per streamed pull
        self.purge_leaves_blocks = False
        self.probe_fail_nodes: set[str] = set()
        self.probe_create_errors = 0
        self.node_image_versions: dict[str, str] = {}  # pool -> node image version (default: one for all)
        self.streamed_bytes = 30_000_000  # what a streamed pull fetches up to Ready
        self.layers_per_image = 3  # overlaybd backstores per streamed image in use

    # --- helpers -------------------------------------------------------------
    def _node(self, pool, streaming, i, ready_at):
        gen = next(self._ids)
        return {
            "name": f"aks-{pool}-{10000000 + gen}-vmss{i:06d}",
            "uid": str(uuid.uuid4()),
            "pool": pool,
            "streaming": streaming,
            "cache": {},  # image -> time it is fully on disk
            "ready_at": ready_at,
            "modes": {},  # image -> snapshotter it was unpacked with (overlaybd | overlayfs)
            "blocks": {},  # image -> overlaybd block files cached
            "fetched": 0,  # the exporter's fetched-bytes counter
        }

    def _node_json(self, n):
        labels = {
            "streaming-ab/pool": n["pool"],
            "streaming-ab/streaming": "true" if n["streaming"] else "false",
            **({"kubernetes.azure.com/artifactstreaming-enabled": "true"} if n["streaming"] else {}),
            "kubernetes.azure.com/node-image-version": self.node_image_versions.get(
                n["pool"], "AKSUbuntu-2204gen2containerd-202608.01.0"
            ),
            "node.kubernetes.io/instance-type": "Standard_D4ds_v5",
            "topology.kubernetes.io/zone": "westus3-1",
        }
        # What kubelet lists: images fully on disk now.
        on_disk = [image for image, done in n["cache"].items() if done <= self.clock.t]
        ready = self.clock.t >= n["ready_at"]
        return kube.node_object(
            n["name"], n["uid"], labels, ready=ready, images=on_disk, node_info=kube.aks_node_info()
        )

    def _tick(self):
        for p in self.ds_pods:
            if not p["applied"] and self.clock.t >= p["done_at"]:
                p["applied"] = True
                node = next(n for n in self.nodes if n["name"] == p["node"])
                if p["container"] == "probe":
                    p["output"] = self._probe_output(node, p["images"])
                elif p["exit"] == 0 and not self.purge_broken:
                    for image in p["images"]:
                        node["cache"].pop(image, None)
                        node["modes"].pop(image, None)
                        if not self.purge_leaves_blocks:
                            node["blocks"].pop(image, None)

    def _event(self, pod, t, reason, message, etype="Normal", component="kubelet"):
        meta = kube.event_metadata(f"{pod['name']}.{next(self._ids):016x}", namespace=self.ns, uid=str(uuid.uuid4()))
        regarding = kube.object_reference(pod["name"], pod["uid"], namespace=self.ns, container=pod["container"])
        first = self.clock.at(t)
        event = kube.core_event(
            meta, regarding, reason, message, first=first, host=pod["node"], etype=etype, component=component
        )
        self.events.append({**event, "t": t})  # "t": when kubelet records it; listed from then on

    def _create_pod(self, dep):
        now = self.clock.t
        nodes = [n for n in self.nodes if n["pool"] == dep["pool"] and now >= n["ready_at"]]
        idx = sum(1 for p in self.pods if p["deployment"] == dep["name"])
        node = nodes[idx % len(nodes)]
        pod = {
            "name": f"{dep['name']}-{next(self._ids):05x}",
            "uid": str(uuid.uuid4()),
            "deployment": dep["name"],
            "labels": dict(dep["labels"]),
            "node": node["name"],
            "image": dep["image"],
            "container": dep["container"],
            "created": now,
            "ready_at": None,
            "deleted_at": None,
            "gone_at": None,
        }
        image = dep["image"]
        if image in self.failing_images:
            self._event(pod, now + 1, "Pulling", kube.pulling_message(image))
            not_found = kube.failed_pull_message(image, "rpc error: code = NotFound")
            self._event(pod, now + 3, "Failed", not_found, "Warning")
        elif image in node["cache"] and node["cache"][image] <= now:
            self._event(pod, now + 0.5, "Pulled", kube.present_message(image))
            pod["ready_at"] = now + 1.5
        elif image in node["cache"]:
            # Serialized pulls: this replica waits for the pull already under way.
            done = node["cache"][image] + 0.3
            self._event(pod, now + 1, "Pulling", kube.pulling_message(image))
            self._event(pod, done, "Pulled", kube.pulled_message(image, "300ms", f"{done - now - 1:.3f}s"))
            pod["ready_at"] = done + 1
        else:
            streams = node["streaming"] and node["pool"] not in self.fallback_pools
            pull = self.pull_seconds[streams]
            self._event(pod, now + 1, "Pulling", kube.pulling_message(image))
            self._event(pod, now + 1 + pull, "Pulled", kube.pulled_message(image, f"{pull}s", f"{pull}s"))
            if streams and self.nodemon_events:
                said = kube.streaming_enabled_message(image, "sha256:" + "5" * 64, f"{pull + 1:g}s")
                self._event(pod, now + 1 + pull, "Pulling", said, component="acr-nodemon")
            node["cache"][image] = now + 1 + pull
            node["modes"][image] = "overlaybd" if streams else "overlayfs"
            if streams:
                node["blocks"][image] = 40
                node["fetched"] += self.streamed_bytes
            pod["ready_at"] = now + 2 + pull
        pod["container_id"] = uuid.uuid4().hex * 2
        self.pods.append(pod)

    def _probe_output(self, node, container_ids):
        """What the probe prints on ``node`` now (timing.model.probe reads it)."""
        if node["name"] in self.probe_fail_nodes:
            return "node " + node["name"] + "\nerror /proc/1/mounts not readable\n"
        t = self.clock.t
        live = [p for p in self.pods if p["node"] == node["name"] and (p["gone_at"] is None or t < p["gone_at"])]
        streamed = {p["image"] for p in live if node["modes"].get(p["image"]) == "overlaybd"}
        lines = [f"node {node['name']}", f"backstores {self.layers_per_image * len(streamed)}"]
        for p in live:
            if p["container_id"] in container_ids and p["image"] in node["modes"]:
                root = f"/run/containerd/io.containerd.runtime.v2.task/k8s.io/{p['container_id']}/rootfs"
                lower = f"/var/lib/containerd/io.containerd.snapshotter.v1.{node['modes'][p['image']]}/snapshots/7/fs"
                lines.append(f"mount {p['container_id']} overlay {root} overlay rw,lowerdir={lower} 0 0")
        lines.append(f"cache-files {sum(node['blocks'].values())}")
        if node["streaming"]:
            lines.append(f"metric overlaybd_registry_download_bytes_total {node['fetched']}")
            lines += ["version acr-mirror 0.3.1", "version overlaybd 1.0.15"]
        else:
            lines.append("error overlaybd exporter 127.0.0.1:9863 not reachable")
        return "\n".join(lines) + "\n"

    def _pod_json(self, p):
        ready = p["ready_at"] is not None and self.clock.t >= p["ready_at"] and p["deleted_at"] is None
        metadata = kube.pod_metadata(
            p["name"],
            namespace=self.ns,
            uid=p["uid"],
            labels=dict(p["labels"]),
            created=self.clock.at(p["created"]),
            deleted=self.clock.at(p["deleted_at"]) if p["deleted_at"] is not None else None,
            resource_version=str(next(self._ids)),
        )
        spec = kube.pod_spec(p["node"], [kube.container_spec(p["container"], p["image"])])
        since = self.clock.at(p["ready_at"] if ready else p["created"])
        statuses = None
        if ready:
            started = kube.running(self.clock.at(p["ready_at"] - 0.5))
            cid = f"containerd://{p['container_id']}"
            statuses = [kube.container_status(p["container"], started, ready=True, container_id=cid)]
        conditions = [kube.condition("Ready", ready, since)]
        return kube.pod_object(metadata, spec, kube.pod_status("Running" if ready else "Pending", conditions, statuses))

    # --- the Cluster interface used by measure ----------------------------------
    def list_deployments(self, namespace, selector):
        self._tick()
        sel = parse_selector(selector)
        out = []
        for d in self.deployments.values():
            if namespace == self.ns and sel.matches(d["labels"]):
                out.append(
                    {
                        "metadata": {"name": d["name"], "namespace": self.ns, "labels": dict(d["labels"])},
                        "spec": {
                            "replicas": d["replicas"],
                            "template": {
                                "metadata": {"labels": dict(d["labels"])},
                                "spec": {
                                    "nodeSelector": {"streaming-ab/pool": d["pool"]},
                                    "containers": [{"name": d["container"], "image": d["image"]}],
                                },
                            },
                        },
                    }
                )
        return out

    def scale_deployment(self, namespace, name, replicas):
        self._tick()
        self.scale_calls.append((self.clock.t, name, replicas))
        dep = self.deployments[name]
        dep["replicas"] = replicas
        live = [p for p in self.pods if p["deployment"] == name and p["deleted_at"] is None]
        for p in live[replicas:]:
            p["deleted_at"] = self.clock.t
            p["gone_at"] = self.clock.t + 3
        for _ in range(max(0, replicas - len(live))):
            self._create_pod(dep)

    def set_template_label(self, namespace, name, key, value):
        self._tick()
        self.label_calls.append((name, key, value))
        self.deployments[name]["labels"][key] = value

    def read_pod_log(self, namespace, name, container, limit_bytes):
        self._tick()
        probe = next((p for p in self.ds_pods if p["name"] == name and p["container"] == container), None)
        if probe is not None:
            return probe.get("output")
        pod = next((p for p in self.pods if p["name"] == name), None)
        if pod is None or pod["ready_at"] is None or self.app_read_seconds is None:
            return None
        started = self.clock.at(pod["ready_at"] - 0.5)
        ready = self.clock.at(pod["ready_at"] - 0.5 + self.app_read_seconds)
        return f"streaming-ab: start {format_micro_time(started)}\nstreaming-ab: ready {format_micro_time(ready)}\n"

    def list_pods(self, namespace, selector):
        self._tick()
        self.list_calls.append(("pods", namespace, selector))
        sel = parse_selector(selector)
        t = self.clock.t
        out = [
            self._pod_json(p)
            for p in self.pods
            if (p["gone_at"] is None or t < p["gone_at"]) and sel.matches(p["labels"])
        ]
        for p in self.ds_pods:
            if sel.matches(p["labels"]):
                done = t >= p["done_at"]
                state = (
                    {"terminated": {"exitCode": p["exit"], "reason": "Completed" if p["exit"] == 0 else "Error"}}
                    if done
                    else {"running": {}}
                )
                out.append(
                    {
                        "metadata": {"name": p["name"], "namespace": namespace, "labels": p["labels"]},
                        "spec": {"nodeName": p["node"]},
                        "status": {"initContainerStatuses": [{"name": p["container"], "state": state}]},
                    }
                )
        return out

    def list_events(self, namespace):
        self._tick()
        self.list_calls.append(("events", namespace, None))
        return [{k: v for k, v in e.items() if k != "t"} for e in self.events if e["t"] <= self.clock.t]

    def list_nodes(self, selector):
        self._tick()
        sel = parse_selector(selector)
        return [self._node_json(n) for n in self.nodes if sel.matches(self._node_json(n)["metadata"]["labels"])]

    def list_jobs(self, namespace, selector):
        self._tick()
        self.list_calls.append(("jobs", namespace, selector))
        sel = parse_selector(selector)
        out = []
        for pool, finished in self.pull_checks.items():
            labels = {"app.kubernetes.io/part-of": "acr-streaming-ab", "streaming-ab/check": "pull"}
            labels["streaming-ab/pool"] = pool
            if namespace != self.ns or not sel.matches(labels):
                continue
            conditions = [{"type": finished, "status": "True", "reason": "DeadlineExceeded"}] if finished else []
            meta = {"name": f"pull-check-{pool}", "namespace": namespace, "labels": labels}
            out.append({"metadata": meta, "status": {"conditions": conditions}})
        return out

    def create_namespace(self, body):
        self._tick()
        self.namespaces[body["metadata"]["name"]] = body

    def delete_namespace(self, name):
        self._tick()
        self.namespaces.pop(name, None)

    def create_daemonset(self, namespace, body):
        self._tick()
        assert namespace in self.namespaces, f"namespace {namespace} was never created"
        name = body["metadata"]["name"]
        spec = body["spec"]["template"]["spec"]
        init = spec["initContainers"][0]
        if init["name"] == "probe" and self.probe_create_errors:
            self.probe_create_errors -= 1
            raise RuntimeError("(500) Internal Server Error: admission webhook timed out")
        self.daemonsets[name] = body
        failing = self.probe_fail_nodes if init["name"] == "probe" else self.purge_fail_nodes
        # purge: the images to remove; probe: the container ids to look up
        images = init["env"][0]["value"].replace(" ", "\n").split("\n")
        expression = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
            "nodeSelectorTerms"
        ][0]["matchExpressions"][0]
        key = expression["key"]
        tolerated = {t["key"] for t in spec["tolerations"]}
        for n in self.nodes:
            labels = self._node_json(n)["metadata"]["labels"]
            selected = key in labels and (expression["operator"] == "Exists" or labels[key] in expression["values"])
            if selected and "streaming-ab/pool" in tolerated:
                self.ds_pods.append(
                    {
                        "name": f"{name}-{next(self._ids):05x}",
                        "ds": name,
                        "node": n["name"],
                        "labels": dict(body["spec"]["template"]["metadata"]["labels"]),
                        "done_at": self.clock.t + (4 if init["name"] == "purge" else 2),
                        "images": images,
                        "container": init["name"],
                        "applied": False,
                        "exit": 1 if n["name"] in failing else 0,
                    }
                )

    def delete_daemonset(self, namespace, name):
        self._tick()
        if self.delete_failures:
            self.delete_failures -= 1
            raise RuntimeError("(503) Service Unavailable: the API server is restarting")
        self.daemonsets.pop(name, None)
        self.ds_pods = [p for p in self.ds_pods if p["ds"] != name]


class FakeStack:
    """cacheGeneration + ``pulumi up`` that replaces every experiment node (empty caches)."""

    def __init__(self, cluster: FakeCluster, clock: FakeClock, up_seconds=240.0, boot_seconds=30.0):
        self.cluster, self.clock = cluster, clock
        self.generation = 3
        self.ups = 0
        self.up_seconds, self.boot_seconds = up_seconds, boot_seconds
        self.replace = True

    def get_generation(self):
        return self.generation

    def set_generation(self, value):
        self.generation = value

    def up(self, on_output):
        self.ups += 1
        on_output("Updating (dev):\n")
        self.clock.t += self.up_seconds
        if self.replace:
            new = []
            for pool, cfg in self.cluster.pools.items():
                for i in range(cfg["nodes"]):
                    new.append(self.cluster._node(pool, cfg["streaming"], i, ready_at=self.clock.t + self.boot_seconds))
            self.cluster.nodes = new
        on_output("Resources: 2 updated\n")


def vote_workloads(replicas=1):
    return [
        {
            "name": "vote",
            "pair": "v1",
            "components": {"front": "acr.azurecr.io/azure-vote-front:v1", "back": "acr.azurecr.io/redis:6.0.8"},
            "arms": [
                {"name": "vote-standard", "streaming": False, "pool": "std", "replicas": replicas},
                {"name": "vote-streaming", "streaming": True, "pool": "art", "replicas": replicas},
            ],
        }
    ]


def default_pools():
    return {"std": {"streaming": False, "nodes": 1}, "art": {"streaming": True, "nodes": 1}}


def counter_ids(prefix="trial"):
    c = itertools.count(1)
    return lambda: f"{prefix}-{next(c):03d}"
