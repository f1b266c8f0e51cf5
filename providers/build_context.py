"""What an ACR task build receives: the build context, and a squash Dockerfile completed at build time.

A squash Dockerfile (components/dockerfiles.py) ends with a marker line naming its source by digest;
the ENV/WORKDIR/EXPOSE/USER/STOPSIGNAL/ENTRYPOINT/CMD lines that follow are regenerated from that
digest's image config when the build runs, because they live in the config, not in the layers.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DOCKERFILE_NAME = "Dockerfile"
# Where the regenerated runtime settings of a squash Dockerfile go.
SQUASH_CONFIG_MARKER = "# streaming-ab: runtime settings regenerated from the image config of "


def complete_squash_dockerfile(head: str, image_config: Mapping[str, Any]) -> str:
    """`head` (from `squash_dockerfile_head`) with the runtime settings of `image_config` appended."""
    if SQUASH_CONFIG_MARKER not in head:
        raise ValueError("not a squash Dockerfile head: the runtime-settings marker line is missing")
    return head + "".join(line + "\n" for line in runtime_instructions(image_config))


def runtime_instructions(image_config: Mapping[str, Any]) -> list[str]:
    """ENV/WORKDIR/EXPOSE/USER/STOPSIGNAL/ENTRYPOINT/CMD lines reproducing an image config's settings.

    Accepts the full OCI/Docker image config (with its `config` object) or the `config` object itself.
    """
    settings = image_config.get("config", image_config) if isinstance(image_config, Mapping) else {}
    settings = settings or {}
    lines: list[str] = []
    for entry in settings.get("Env") or []:
        key, sep, value = entry.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", key):
            raise ValueError(f"image config has an environment entry that is not NAME=value: {entry!r}")
        lines.append(f"ENV {key}={_quote(value)}")
    if settings.get("WorkingDir"):
        lines.append(f"WORKDIR {_escape_substitution(settings['WorkingDir'])}")
    ports = sorted((settings.get("ExposedPorts") or {}), key=_port_sort_key)
    if ports:
        lines.append("EXPOSE " + " ".join(ports))
    if settings.get("User"):
        lines.append(f"USER {_escape_substitution(settings['User'])}")
    if settings.get("StopSignal"):
        lines.append(f"STOPSIGNAL {settings['StopSignal']}")
    # Exec (JSON) form: no shell wrapping and no variable substitution, exactly the config's arrays.
    # ENTRYPOINT comes first because setting it resets CMD.
    if settings.get("Entrypoint"):
        lines.append("ENTRYPOINT " + json.dumps(list(settings["Entrypoint"])))
    if settings.get("Cmd"):
        lines.append("CMD " + json.dumps(list(settings["Cmd"])))
    return lines


def _port_sort_key(port: str) -> tuple[int, str]:
    number, _, protocol = port.partition("/")
    return (int(number) if number.isdigit() else 0, protocol)


def _escape_substitution(value: str) -> str:
    # The config holds final values; Dockerfile instructions would expand `$NAME` again.
    if "\n" in value:
        raise ValueError(f"image config value spans lines and cannot be written to a Dockerfile: {value!r}")
    return value.replace("\\", "\\\\").replace("$", "\\$")


def _quote(value: str) -> str:
    return '"' + _escape_substitution(value).replace('"', '\\"') + '"'


def build_context(dockerfile: str) -> bytes:
    """A gzipped tar holding only `Dockerfile`, byte-for-byte the same for the same text.

    Fixed mtimes and owners keep the archive reproducible, so a retried upload sends identical bytes.
    """
    data = dockerfile.encode("utf-8")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(DOCKERFILE_NAME)
        info.size = len(data)
        info.mode = 0o644
        info.mtime = 0
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def _normalized(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # Who owns the files and when they were touched does not change the image: same folder, same bytes.
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mode = 0o755 if info.isdir() or info.mode & 0o111 else 0o644
    return info


# Folders never sent as part of a user's context, at any depth: history and local environments.
LEFT_OUT_FOLDERS = frozenset({".git", "venv", ".venv"})
# The project's cap on a user context as a tar (before gzip): it is packed at every preview, in memory.
MAX_CONTEXT_BYTES = 512 * 2**20


class BuildContextError(Exception):
    """A user's folder that cannot be packed: unreadable, or larger than MAX_CONTEXT_BYTES as a tar."""


def folder_context(folder: str | Path) -> bytes:
    """A gzipped tar of the files under `folder` (a user's build context), the same bytes for the same files.

    Entries are sorted and their times and owners fixed, so the digest changes only when a file does;
    LEFT_OUT_FOLDERS are skipped. Packing stops once the tar passes MAX_CONTEXT_BYTES.
    """
    root, max_bytes = Path(folder), MAX_CONTEXT_BYTES
    raw = io.BytesIO()
    try:
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for directory, subdirectories, files in os.walk(root, onerror=_raise):
                subdirectories[:] = sorted(d for d in subdirectories if d not in LEFT_OUT_FOLDERS)
                for name in sorted([*subdirectories, *files]):
                    path = Path(directory) / name
                    tar.add(path, arcname=path.relative_to(root).as_posix(), recursive=False, filter=_normalized)
                    if raw.tell() > max_bytes:
                        raise BuildContextError(
                            f"the folder is more than {max_bytes // 2**20} MiB as a tar; allowed: a smaller folder "
                            f"({', '.join(sorted(LEFT_OUT_FOLDERS))} are left out), e.g. only what the Dockerfile "
                            "copies"
                        )
    except OSError as error:
        raise BuildContextError(f"cannot read {error.filename or root}: {error.strerror or error}") from None
    return gzip.compress(raw.getvalue(), mtime=0)


def _raise(error: OSError) -> None:
    raise error


def context_digest(context: bytes) -> str:
    return "sha256:" + hashlib.sha256(context).hexdigest()
