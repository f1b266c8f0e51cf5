import shutil
import subprocess

import pytest

from timing.measure.purge import HOST_SCRIPT, WRAPPER, daemonset_manifest, daemonset_name, pod_purge_state


def test_manifest_targets_experiment_pools_only():
    ds = daemonset_manifest("abc123", "streaming-ab", ["acr.io/b:1", "acr.io/a:1", "acr.io/a:1"])
    assert ds["metadata"]["name"] == daemonset_name("abc123") == "streaming-ab-purge-abc123"
    spec = ds["spec"]["template"]["spec"]
    term = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert term == [{"matchExpressions": [{"key": "streaming-ab/pool", "operator": "Exists"}]}]
    assert {"key": "streaming-ab/pool", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
    assert spec["hostPID"] is True
    init = spec["initContainers"][0]
    assert init["securityContext"] == {"privileged": True}
    env = {e["name"]: e["value"] for e in init["env"]}
    assert env["PURGE_IMAGES"] == "acr.io/a:1\nacr.io/b:1"
    assert "crictl rmi" in env["PURGE_SCRIPT"] and "/etc/overlaybd/overlaybd.json" in env["PURGE_SCRIPT"]
    assert "nsenter --target 1 --mount" in init["command"][2]
    selector = ds["spec"]["selector"]["matchLabels"]
    assert selector == {"streaming-ab/purge": "abc123"}
    assert selector.items() <= ds["spec"]["template"]["metadata"]["labels"].items()
    # No arm label: purge pods never count as experiment pods.
    assert "streaming-ab/arm" not in ds["spec"]["template"]["metadata"]["labels"]


def test_pod_state_from_init_container():
    def pod(state, last=None):
        cs = {"name": "purge", "state": state}
        if last:
            cs["lastState"] = last
        return {"status": {"initContainerStatuses": [cs]}}

    assert pod_purge_state({"status": {}}) == "running"
    assert pod_purge_state(pod({"running": {}})) == "running"
    assert pod_purge_state(pod({"terminated": {"exitCode": 0}})) == "done"
    assert pod_purge_state(pod({"terminated": {"exitCode": 1}})) == "failed"
    assert pod_purge_state(pod({"running": {}}, last={"terminated": {"exitCode": 2}})) == "failed"


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_host_script_against_a_fake_crictl(tmp_path):
    """Run the real script with a fake crictl and a fake overlaybd config on PATH / in a temp root."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    state = tmp_path / "images"
    state.write_text("id-front acr.io/front:v1\nid-redis acr.io/redis:6\nid-other acr.io/other:1\n")
    crictl = bin_dir / "crictl"
    crictl.write_text(f"""#!/bin/sh
if [ "$1" = images ] && [ "$2" = -q ]; then grep " $3\\$" {state} | cut -d' ' -f1; exit 0; fi
if [ "$1" = rmi ]; then grep -v "^$2 " {state} > {state}.new; mv {state}.new {state}; exit 0; fi
exit 1
""")
    crictl.chmod(0o755)
    cache = tmp_path / "registry_cache"
    (cache / "sha256").mkdir(parents=True)
    (cache / "sha256" / "blk").write_text("x")
    conf = tmp_path / "overlaybd.json"
    conf.write_text(f'{{"cacheConfig": {{"cacheType": "file", "cacheDir": "{cache}", "cacheSizeGB": 32}}}}')
    script = HOST_SCRIPT.replace("/etc/overlaybd/overlaybd.json", str(conf)).replace(
        "export PATH=", f"export PATH={bin_dir}:"
    )
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "PURGE_IMAGES": "acr.io/front:v1\nacr.io/redis:6"}
    out = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert state.read_text() == "id-other acr.io/other:1\n"
    assert cache.exists() and list(cache.iterdir()) == []
    assert "emptied overlaybd cache" in out.stdout


def test_wrapper_is_valid_shell():
    assert subprocess.run(["sh", "-n", "-c", WRAPPER]).returncode == 0
    assert subprocess.run(["sh", "-n", "-c", HOST_SCRIPT]).returncode == 0


def test_only_the_purge_init_container_is_privileged():
    from timing.measure.purge import daemonset_manifest

    spec = daemonset_manifest("r1", "streaming-ab", ["a/b:1"])["spec"]["template"]["spec"]
    assert spec["initContainers"][0]["securityContext"] == {"privileged": True}
    (done,) = spec["containers"]
    assert done["securityContext"]["runAsNonRoot"] is True
    assert done["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert done["securityContext"]["allowPrivilegeEscalation"] is False
