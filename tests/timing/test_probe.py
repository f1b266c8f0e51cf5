"""The node probe: its output parsed (a pure function), its DaemonSet confined, its script run on a fake host."""

import shutil
import subprocess

import pytest

from timing.measure.probe import PROBE_NAMESPACE, PROBE_SCRIPT, daemonset_manifest, namespace_manifest
from timing.measure.prober import pod_container_ids, reset_leftovers
from timing.model.probe import OVERLAYBD, OVERLAYFS, NodeProbe, parse_probe_output, snapshotter_of_mount

BD_MOUNT = (
    "overlay /run/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs overlay "
    "rw,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlaybd/snapshots/12/block/mountpoint 0 0"
)
FS_MOUNT = (
    "overlay /run/containerd/io.containerd.runtime.v2.task/k8s.io/def/rootfs overlay "
    "rw,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/3/fs 0 0"
)


def test_every_kind_of_line_is_read():
    text = "\n".join(
        [
            "node aks-art-1",
            "backstores 6",
            f"mount abc {BD_MOUNT}",
            f"mount def {FS_MOUNT}",
            "cache-files 40",
            "metric overlaybd_registry_download_bytes_total 3.2e+08",
            'metric overlaybd_fetch_bytes{layer="sha256:1"} 1000',
            "metric overlaybd_open_files 7",  # not bytes: ignored
            "metric go_memstats_alloc_bytes 999",  # bytes, but not fetched: ignored
            'mirror level=info msg="redirecting to streaming manifest"',
            "overlaybd-log 2026/12/04 05:00:01|INFO|th=00007F|open image: sha256:1",
            "version acr-mirror 0.3.1",
            "error overlaybd exporter 127.0.0.1:9863 not reachable",
            "something-new 1",
        ]
    )
    probe = parse_probe_output("aks-art-1", text)
    assert probe.backstores == 6 and probe.cache_files == 40
    assert probe.rootfs == {"abc": OVERLAYBD, "def": OVERLAYFS}
    assert probe.bytes_fetched == 320_001_000
    assert len(probe.metrics) == 2 and probe.journal == ['level=info msg="redirecting to streaming manifest"']
    assert probe.overlaybd_log == ["2026/12/04 05:00:01|INFO|th=00007F|open image: sha256:1"]
    assert probe.versions == {"acr-mirror": "0.3.1"}
    assert probe.errors == ["overlaybd exporter 127.0.0.1:9863 not reachable"]
    assert NodeProbe.from_json(probe.to_json()) == probe


def test_what_the_probe_could_not_read_stays_unknown():
    probe = parse_probe_output("n", "node n\nerror /proc/1/mounts not readable\nbackstores ?\n")
    assert probe.backstores is None and probe.cache_files is None and probe.bytes_fetched is None
    assert probe.rootfs == {} and probe.errors == ["/proc/1/mounts not readable"]
    assert snapshotter_of_mount("tmpfs /run tmpfs rw 0 0") == "other"


def test_leftovers_after_a_reset_name_the_node():
    clean = {"n1": NodeProbe("n1", backstores=0, cache_files=0)}
    assert reset_leftovers(clean) is None
    dirty = {"n1": NodeProbe("n1", backstores=0, cache_files=40), "n2": NodeProbe("n2", backstores=3)}
    assert reset_leftovers(dirty) == (
        "reset_failed: after the reset the probe still found n1 40 cached overlaybd block file(s), "
        "n2 3 overlaybd backstore(s)"
    )


def test_container_ids_lose_their_scheme():
    pod = {"status": {"containerStatuses": [{"containerID": "containerd://abc"}, {"name": "waiting"}]}}
    assert pod_container_ids([pod]) == ["abc"]


def test_the_probe_is_confined_and_reads_the_host_read_only():
    ds = daemonset_manifest("r1", PROBE_NAMESPACE, "img@sha256:" + "a" * 64, ["art", "std"], ["c2", "c1"])
    spec = ds["spec"]["template"]["spec"]
    (probe,) = spec["initContainers"]
    security = probe["securityContext"]
    assert security["privileged"] is False and security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"], "add": ["SYS_PTRACE", "DAC_READ_SEARCH"]}
    assert all(m["readOnly"] for m in probe["volumeMounts"])
    assert probe["env"] == [{"name": "PROBE_CONTAINERS", "value": "c1 c2"}]
    match = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert match["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == ["art", "std"]
    assert spec["containers"][0]["securityContext"]["runAsNonRoot"] is True
    assert spec["automountServiceAccountToken"] is False
    labels = namespace_manifest()["metadata"]["labels"]
    assert namespace_manifest()["metadata"]["name"] == PROBE_NAMESPACE != "streaming-ab"
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"


def test_the_probe_objects_are_valid_kubernetes():
    import kubernetes_validate

    from offline.kube_schema import schema_version

    ds = daemonset_manifest("r1", PROBE_NAMESPACE, "img@sha256:" + "a" * 64, ["art"], ["c1"])
    for obj in (ds, namespace_manifest()):
        kubernetes_validate.validate(obj, schema_version(None), strict=True)


def test_probe_script_is_valid_shell():
    assert subprocess.run(["sh", "-n", "-c", PROBE_SCRIPT]).returncode == 0


@pytest.mark.skipif(shutil.which("sh") is None or shutil.which("awk") is None, reason="needs a POSIX shell and awk")
def test_probe_script_on_a_fake_host_root(tmp_path):
    """The real script against a folder laid out like a node's root (no configfs, no exporter here)."""
    host = tmp_path
    (host / "etc" / "overlaybd").mkdir(parents=True)
    (host / "etc" / "hostname").write_text("aks-art-1\n")
    cache = host / "opt" / "cache"
    (cache / "sha256").mkdir(parents=True)
    for i in range(3):
        (cache / "sha256" / f"blk{i}").write_text("x")
    conf = '{"cacheConfig": {"cacheDir": "/opt/cache"}}'
    (host / "etc" / "overlaybd" / "overlaybd.json").write_text(conf)
    (host / "var" / "lib" / "dpkg").mkdir(parents=True)
    (host / "var" / "lib" / "dpkg" / "status").write_text(
        "Package: curl\nVersion: 7.81\n\nPackage: overlaybd\nVersion: 1.0.15\n\nPackage: acr-mirror\nVersion: 0.3.1\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PROBE_HOST": str(host), "PROBE_CONTAINERS": "none-here"}
    out = subprocess.run(["sh", "-c", PROBE_SCRIPT], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    probe = parse_probe_output("aks-art-1", out.stdout)
    assert out.stdout.startswith("node aks-art-1\n")
    assert probe.cache_files == 3 and probe.rootfs == {}
    assert probe.versions == {"overlaybd": "1.0.15", "acr-mirror": "0.3.1"}
