"""How each image's containers are confined: the least each image provably needs, and why.

Every pod gets no service-account token (nothing here calls the API server), no privilege escalation
and the runtime's default seccomp profile; the namespace enforces Pod Security `baseline` and warns
on `restricted`. Capabilities and the user depend on the image, so each known image has a profile
with its reason; an image the project does not know keeps the runtime's default capabilities,
because dropping what it might need would break the very start-up being measured.
"""

from __future__ import annotations

from typing import Any

OWN = "own"  # the project's synthetic images: busybox as user 65532, port 8080
NON_ROOT = "non-root"  # images that declare a numeric non-root USER and serve unprivileged ports
VOTE_FRONT = "azure-vote-front"
UNKNOWN = "unknown"

OWN_USER = 65532  # components/dockerfiles.py APP_USER

# Sources whose images are known (prefix of the public reference, before the tag or digest).
KNOWN_SOURCES = {
    # Bitnami images run as USER 1001 and redis listens on 6379: nothing to add, everything to drop.
    "mcr.microsoft.com/oss/bitnami/redis": NON_ROOT,
    "docker.io/bitnami/redis": NON_ROOT,
    # Azure-Samples/azure-voting-app-redis: FROM tiangolo/uwsgi-nginx-flask, whose supervisord (root)
    # runs nginx and uwsgi. nginx binds :80 (NET_BIND_SERVICE), its master switches the workers to user
    # nginx and uwsgi drops to its own user (SETUID, SETGID), both create and hand over their temp
    # and socket files (CHOWN, FOWNER, DAC_OVERRIDE), and supervisord signals children that run as
    # other users (KILL). Nothing there uses raw sockets, device nodes, chroot, file capabilities
    # or the audit log: NET_RAW, MKNOD, SYS_CHROOT, SETFCAP, SETPCAP, FSETID, AUDIT_WRITE are dropped.
    "mcr.microsoft.com/azuredocs/azure-vote-front": VOTE_FRONT,
}
VOTE_FRONT_CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "NET_BIND_SERVICE", "SETGID", "SETUID"]

NAMESPACE_LABELS = {
    "pod-security.kubernetes.io/enforce": "baseline",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/warn-version": "latest",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/audit-version": "latest",
}
POD_SECURITY_CONTEXT = {"seccompProfile": {"type": "RuntimeDefault"}}


def profile_for_source(source: str) -> str:
    repository = source.split("@", 1)[0]
    last = repository.rsplit("/", 1)[-1]
    if ":" in last:
        repository = repository.rsplit(":", 1)[0]
    return KNOWN_SOURCES.get(repository, UNKNOWN)


def container_security_context(profile: str) -> dict[str, Any]:
    context: dict[str, Any] = {"allowPrivilegeEscalation": False}
    if profile == OWN:
        context.update(runAsNonRoot=True, runAsUser=OWN_USER, runAsGroup=OWN_USER, capabilities={"drop": ["ALL"]})
    elif profile == NON_ROOT:
        context.update(runAsNonRoot=True, capabilities={"drop": ["ALL"]})
    elif profile == VOTE_FRONT:
        context["capabilities"] = {"drop": ["ALL"], "add": list(VOTE_FRONT_CAPABILITIES)}
    return context
