"""Dockerfile generation for the synthetic images (components/dockerfiles.py)."""

from __future__ import annotations

import gzip
import io
import json
import re
import tarfile
from pathlib import Path

import pytest

from components import dockerfiles
from providers import build_context

FIXTURES = Path(__file__).parents[1] / "fixtures" / "images"
# Constructed, see tests/fixtures/images/README.md.
VOTE_FRONT_CONFIG = json.loads((FIXTURES / "azure-vote-front-v1.config.constructed.json").read_text())
SOURCE = (
    "streamabx7k2q9.azurecr.io/azure-vote-front:v1@sha256:"
    "4ef83ea6b0f7763c230e696709d8d8c398e21f65542db36e82961908bcf58d18"
)
RUN_DD = re.compile(r"^RUN dd if=(?P<device>\S+) of=(?P<file>\S+) bs=1M count=(?P<count>\d+)$")


def instructions(dockerfile: str) -> list[str]:
    return [line for line in dockerfile.splitlines() if line and not line.startswith("#")]


def dd_steps(dockerfile: str) -> list[dict[str, str]]:
    return [m.groupdict() for m in map(RUN_DD.match, instructions(dockerfile)) if m]


@pytest.mark.parametrize(
    "size_mb, layers, expected",
    [
        (5000, 1, [5000]),
        (10, 3, [4, 3, 3]),
        (1000, 8, [125] * 8),
        (3000, 28, [108] * 4 + [107] * 24),
        (28, 28, [1] * 28),
    ],
)
def test_sizes_are_split_across_layers_with_the_remainder_spread(size_mb, layers, expected):
    sizes = dockerfiles.layer_sizes_mb(size_mb, layers)
    assert sizes == expected
    assert sum(sizes) == size_mb and max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("size_mb, layers", [(10, 0), (5, 6)])
def test_sizes_that_cannot_be_split_are_refused(size_mb, layers):
    with pytest.raises(ValueError):
        dockerfiles.layer_sizes_mb(size_mb, layers)


TOOLS = "reg.azurecr.io/library/busybox:1.37@sha256:" + "c" * 64


def filled(base, size_mb, layers, fill, read_mb=None):
    return dockerfiles.filled_dockerfile(base, size_mb, layers, fill, TOOLS, size_mb if read_mb is None else read_mb)


def test_blog_image_is_one_zero_layer_over_the_base_with_a_read_then_http_start():
    text = filled("reg.azurecr.io/library/alpine:3.20@sha256:" + "a" * 64, 5000, 1, "zero")
    steps = instructions(text)
    assert steps[0] == f"FROM {TOOLS} AS tools"
    assert steps[1] == "FROM reg.azurecr.io/library/alpine:3.20@sha256:" + "a" * 64
    assert dd_steps(text) == [{"device": "/dev/zero", "file": "/streaming-ab-fill-001.bin", "count": "5000"}]
    assert steps[3:7] == [
        "COPY --from=tools /bin/busybox /opt/streaming-ab/busybox",
        "ENV STARTUP_READ_MB=5000",
        "EXPOSE 8080",
        "USER 65532:65532",
    ]
    entrypoint = json.loads(steps[7].removeprefix("ENTRYPOINT "))
    assert entrypoint[:3] == ["/opt/streaming-ab/busybox", "sh", "-c"]
    script = entrypoint[3]
    # Start line, the read, the ready line, then the HTTP server the readiness probe asks.
    order = [
        script.index(part) for part in ("streaming-ab: start", "head -c", "streaming-ab: ready", "httpd -f -p 8080")
    ]
    assert order == sorted(order)
    assert len(steps) == 8


def test_start_script_reads_the_configured_megabytes_in_a_real_shell(tmp_path):
    # The script's shell logic, run by the machine's sh with busybox's applets replaced by the system's.
    import shutil
    import subprocess

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "busybox"
    shim.write_text(
        '#!/bin/sh\ncmd="$1"; shift\nif [ "$cmd" = httpd ]; then echo "httpd $*"; exit 0; fi\nexec "$cmd" "$@"\n'
    )
    shim.chmod(0o755)
    fill = tmp_path / "streaming-ab-fill-001.bin"
    fill.write_bytes(b"x" * (3 * 1048576))
    script = (
        dockerfiles.START_SCRIPT.replace(dockerfiles.BUSYBOX, str(shim))
        .replace("/streaming-ab-fill-", str(tmp_path) + "/streaming-ab-fill-")
        .replace("/tmp/www", str(tmp_path / "www"))
    )
    if shutil.which("sh") is None:
        pytest.skip("no POSIX shell on this machine")
    out = subprocess.run(
        ["sh", "-c", script],
        env={"STARTUP_READ_MB": "2", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    lines = out.stdout.splitlines()
    assert lines[0].startswith("streaming-ab: start ") and lines[1].startswith("streaming-ab: ready ")
    from timing.model.applog import app_times

    times = app_times(out.stdout)
    assert times["ready"] >= times["start"]  # the millisecond times parse as the report reads them
    assert lines[2] == "httpd -f -p 8080 -h " + str(tmp_path / "www")
    assert (tmp_path / "www" / "ready").read_text() == "ok\n"


def test_start_read_cannot_exceed_the_payload():
    with pytest.raises(ValueError, match="cannot read"):
        filled("alpine:3.20", 10, 1, "zero", read_mb=11)
    assert "ENV STARTUP_READ_MB=0" in filled("alpine:3.20", 10, 1, "zero", read_mb=0)


@pytest.mark.parametrize("fill, device", [("zero", "/dev/zero"), ("random", "/dev/urandom")])
def test_fill_chooses_the_device(fill, device):
    steps = dd_steps(filled("alpine:3.20", 3000, 28, fill))
    assert len(steps) == 28
    assert {s["device"] for s in steps} == {device}
    assert sum(int(s["count"]) for s in steps) == 3000
    # One file per layer: no two RUN steps write the same path, so no layer repeats another.
    assert len({s["file"] for s in steps}) == 28


def test_unknown_fill_is_refused():
    with pytest.raises(ValueError, match="unknown fill"):
        filled("alpine:3.20", 10, 1, "ones")


def test_squash_dockerfile_from_the_azure_vote_front_config():
    text = dockerfiles.squash_dockerfile(SOURCE, VOTE_FRONT_CONFIG)
    steps = instructions(text)
    assert steps[:3] == [f"FROM {SOURCE} AS src", "FROM scratch", "COPY --from=src / /"]
    # The seed's point: 29 layers in, exactly one layer-producing instruction out.
    assert len(VOTE_FRONT_CONFIG["rootfs"]["diff_ids"]) == 29
    assert [s for s in steps if s.split()[0] in ("RUN", "COPY", "ADD")] == ["COPY --from=src / /"]
    env = [s for s in steps if s.startswith("ENV ")]
    assert len(env) == len(VOTE_FRONT_CONFIG["config"]["Env"])
    assert 'ENV PATH="/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"' in env
    assert 'ENV UWSGI_INI="/app/uwsgi.ini"' in env
    assert 'ENV LISTEN_PORT="80"' in env
    assert steps[-4:] == ["WORKDIR /app", "EXPOSE 80/tcp 443/tcp", 'ENTRYPOINT ["/entrypoint.sh"]', 'CMD ["/start.sh"]']
    assert not any(s.startswith(("USER", "STOPSIGNAL")) for s in steps)  # the source sets neither


def test_runtime_values_are_written_literally():
    config = {
        "config": {
            "Env": ['GREETING=say "hi" to $USER', "BACKSLASH=a\\b", "EMPTY="],
            "User": "1000:1000",
            "StopSignal": "SIGQUIT",
            "Cmd": ["sh", "-c", "echo $HOME"],
        }
    }
    lines = build_context.runtime_instructions(config)
    assert lines == [
        'ENV GREETING="say \\"hi\\" to \\$USER"',
        'ENV BACKSLASH="a\\\\b"',
        'ENV EMPTY=""',
        "USER 1000:1000",
        "STOPSIGNAL SIGQUIT",
        # Exec form is JSON and is not substituted by the builder: kept as is.
        'CMD ["sh", "-c", "echo $HOME"]',
    ]


def test_runtime_lines_accept_the_inner_config_object_too():
    assert build_context.runtime_instructions(VOTE_FRONT_CONFIG["config"]) == build_context.runtime_instructions(
        VOTE_FRONT_CONFIG
    )


@pytest.mark.parametrize("config", [{"config": {"Env": ["NOEQUALS"]}}, {"config": {"WorkingDir": "/a\n/b"}}])
def test_config_values_a_dockerfile_cannot_carry_are_refused(config):
    with pytest.raises(ValueError):
        build_context.runtime_instructions(config)


def test_squash_head_names_its_source_and_completes_at_build_time():
    head = dockerfiles.squash_dockerfile_head(SOURCE)
    assert dockerfiles.squash_source_of(head) == SOURCE
    assert not any(line.startswith(("ENV", "CMD", "ENTRYPOINT")) for line in head.splitlines())
    assert build_context.complete_squash_dockerfile(head, VOTE_FRONT_CONFIG) == dockerfiles.squash_dockerfile(
        SOURCE, VOTE_FRONT_CONFIG
    )
    assert dockerfiles.squash_source_of(filled("alpine:3.20", 1, 1, "zero")) is None
    with pytest.raises(ValueError, match="marker"):
        build_context.complete_squash_dockerfile("FROM alpine:3.20\n", VOTE_FRONT_CONFIG)


def test_build_context_holds_only_the_dockerfile_and_is_reproducible():
    text = filled("alpine:3.20", 10, 2, "random")
    context = build_context.build_context(text)
    assert context == build_context.build_context(text)
    assert context != build_context.build_context(text.replace("count=5", "count=6"))
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(context))) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["Dockerfile"]
        assert tar.extractfile(members[0]).read().decode() == text
        assert members[0].mtime == 0 and members[0].uid == 0
