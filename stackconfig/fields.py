"""Annotated field types: what one value may look like, checked where it is declared.

Each type is a strict pydantic type plus an AfterValidator whose error names what is allowed; the
key path comes from where the value sits. Patterns use `fullmatch`, so a trailing newline never passes.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, StrictInt, StrictStr

from contract import NAMESPACE_NAME_PATTERN
from stackconfig.errors import problem
from stackconfig.vm_sizes import parse_vm_size

# The random suffix appended to the prefix to make the registry name globally unique.
REGISTRY_SUFFIX_LENGTH = 6

_HOST = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
REPOSITORY_PATTERN = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
REPOSITORY_RE = re.compile(REPOSITORY_PATTERN)
_TAG = r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}"
_DIGEST = r"sha256:[0-9a-f]{64}"
SOURCE_RE = re.compile(
    rf"(?P<registry>{_HOST})/(?P<repo>{REPOSITORY_PATTERN})(?::(?P<tag>{_TAG})|@(?P<digest>{_DIGEST}))"
)
TARGET_RE = re.compile(rf"(?P<repo>{REPOSITORY_PATTERN}):(?P<tag>{_TAG})")
PREFIX_RE = re.compile(rf"[a-z][a-z0-9]{{0,{50 - REGISTRY_SUFFIX_LENGTH - 1}}}")
POOL_NAME_RE = re.compile(r"[a-z][a-z0-9]{0,11}")
NAMESPACE_NAME_RE = re.compile(NAMESPACE_NAME_PATTERN)
# Workload and arm names end up in Service names, which must be DNS-1035 labels (start with a letter).
OBJECT_NAME_RE = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
CPU_RE = re.compile(r"(\d+(?:\.\d+)?)(m?)")
MEMORY_RE = re.compile(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?")
_MEMORY_UNITS = {
    None: 1,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}
LABEL_VALUE_RE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
LABEL_VALUE_MAX = 63
LABEL_KEY_RE = re.compile(
    r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
)
K8S_VERSION_RE = re.compile(r"1\.(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?")
LOCATION_RE = re.compile(r"[a-z0-9]+")
# Artifact streaming's minimum (seed 002).
MIN_KUBERNETES_MINOR = 26
# A Pulumi stack reference: organization/project/stack (the local backend's organization is
# `organization`).
STACK_REFERENCE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*")
# Azure resource group names: 1-90 of letters, digits, '_', '-', '.', '(' and ')', not ending in '.'.
RESOURCE_GROUP_RE = re.compile(r"[-\w.()]{0,89}[-\w()]")
# Image names become Pulumi resource names and keys of the `images` output.
IMAGE_NAME_RE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
# A config key of this project (the name after `acr-streaming-ab:`), as `pulumi config set` accepts it.
CONFIG_KEY_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
# Registry user names (Docker Hub, GHCR, ACR tokens, service principal ids): no spaces or control characters.
USERNAME_RE = re.compile(r"[^\s:]{1,256}")
REGISTRY_ID_RE = re.compile(
    r"/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w.()]{1,90}"
    r"/providers/Microsoft\.ContainerRegistry/registries/[A-Za-z0-9]{5,50}",
    re.IGNORECASE,
)
ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
PROBE_PATH_RE = re.compile(r"/[\x21-\x7e]*")
# Namespaces Kubernetes keeps for itself: the workloads' namespace is created, labelled and deleted
# with the stack, so it must be the stack's own.
RESERVED_NAMESPACES = ("default",)
RESERVED_NAMESPACE_PREFIX = "kube-"
# Node-label domains Kubernetes and AKS reserve (kubelet may set only a few of them; AKS refuses its own).
RESERVED_LABEL_DOMAINS = ("kubernetes.io", "k8s.io", "kubernetes.azure.com")


def _checked(test: Callable[[Any], bool], message: Callable[[Any], str]) -> AfterValidator:
    def check(value: Any) -> Any:
        if not test(value):
            raise problem(message(value))
        return value

    return AfterValidator(check)


def _matching(
    pattern: re.Pattern[str], message: Callable[[str], str], *, max_length: int | None = None, empty: bool = False
) -> AfterValidator:
    """A string `pattern` matches whole (at most `max_length` long; `empty`: "" passes too)."""

    def test(value: str) -> bool:
        if empty and value == "":
            return True
        return bool(pattern.fullmatch(value)) and (max_length is None or len(value) <= max_length)

    return _checked(test, message)


def _in_range(low: int, high: int, unit: str = "") -> AfterValidator:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise problem(f"{value} is out of range; allowed: {low}-{high}{unit}")
        return value

    return AfterValidator(check)


def cpu_millicores(text: str) -> float | None:
    match = CPU_RE.fullmatch(text)
    return None if not match else float(match.group(1)) * (1 if match.group(2) else 1000)


def memory_bytes(text: str) -> float | None:
    match = MEMORY_RE.fullmatch(text)
    return None if not match else float(match.group(1)) * _MEMORY_UNITS[match.group(2)]


def reserved_label_domain(key: str) -> str | None:
    """The reserved domain a label key's prefix falls under (`node.kubernetes.io/x` -> kubernetes.io)."""
    prefix, slash, _ = key.rpartition("/")
    if not slash:
        return None
    for domain in RESERVED_LABEL_DOMAINS:
        if prefix == domain or prefix.endswith("." + domain):
            return domain
    return None


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        raise problem(f"{value!r} is not a CIDR ({error}); allowed: e.g. 203.0.113.0/24 or 2001:db8::/48") from None
    if "/" not in value:
        raise problem(f"{value!r} has no prefix length; allowed: e.g. {value}/32")
    return value


# The whole internet of each address family, e.g. a LoadBalancer's source ranges when none are given.
INTERNET = ("0.0.0.0/0", "::/0")
_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def internet_wide(cidrs: Sequence[str]) -> list[str]:
    """The whole-internet ranges (of INTERNET) the union of `cidrs` covers; [] when it covers neither family.

    Spellings are normalised by ipaddress (`0.0.0.0/00`), IPv4-mapped IPv6 folds into IPv4, and halves
    add up (`0.0.0.0/1` + `128.0.0.0/1`). Entries that are no CIDR are skipped: their own key reports them.
    """
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            continue
        if isinstance(network, ipaddress.IPv4Network):
            v4.append(network)
            continue
        v6.append(network)
        if network.subnet_of(_IPV4_MAPPED):
            mapped = network.network_address.ipv4_mapped
            assert mapped is not None
            v4.append(ipaddress.IPv4Network((mapped, network.prefixlen - 96)))
        elif _IPV4_MAPPED.subnet_of(network):
            v4.append(ipaddress.IPv4Network("0.0.0.0/0"))
    covered = []
    for whole, networks in zip(INTERNET, (v4, v6), strict=True):
        if [str(n) for n in ipaddress.collapse_addresses(networks)] == [whole]:  # type: ignore[arg-type]
            covered.append(whole)
    return covered


def _namespace(value: str) -> str:
    if not NAMESPACE_NAME_RE.fullmatch(value):
        raise problem(
            f"{value!r} is not a Kubernetes namespace name; allowed: lowercase letters, digits and '-', at most 63"
        )
    if value in RESERVED_NAMESPACES or value.startswith(RESERVED_NAMESPACE_PREFIX):
        raise problem(
            f"{value!r} is a namespace Kubernetes keeps for itself (the stack creates, labels and deletes its "
            "namespace); allowed: a namespace of your own, e.g. streaming-ab"
        )
    return value


def is_label_value(value: str) -> bool:
    return bool(LABEL_VALUE_RE.fullmatch(value)) and len(value) <= LABEL_VALUE_MAX


def _vm_size(value: str) -> str:
    try:
        parse_vm_size(value)
    except ValueError as error:
        raise problem(str(error)) from None
    return value


def _kubernetes_version(value: str) -> str:
    match = K8S_VERSION_RE.fullmatch(value)
    if not match:
        raise problem(
            f"{value!r} is not a Kubernetes version; allowed: 1.MINOR or 1.MINOR.PATCH, at least "
            f"1.{MIN_KUBERNETES_MINOR}"
        )
    if int(match.group(1)) < MIN_KUBERNETES_MINOR:
        raise problem(f"{value} is older than artifact streaming supports; allowed: 1.{MIN_KUBERNETES_MINOR} or newer")
    return value


Location = Annotated[
    StrictStr,
    _matching(
        LOCATION_RE,
        lambda v: f"{v!r} is not an Azure region name; allowed: lowercase letters and digits such as westus3",
    ),
]
NamePrefix = Annotated[
    StrictStr,
    _matching(
        PREFIX_RE,
        lambda v: (
            f"{v!r} cannot produce a valid registry name (5-50 alphanumerics, with a {REGISTRY_SUFFIX_LENGTH}-"
            f"character random suffix); allowed: a lowercase letter followed by up to "
            f"{50 - REGISTRY_SUFFIX_LENGTH - 1} lowercase letters or digits"
        ),
    ),
]
ImageSource = Annotated[
    StrictStr,
    _matching(
        SOURCE_RE,
        lambda v: (
            f"{v!r} is not an image reference; allowed: registry/repo:tag or registry/repo@sha256:<64 hex>, "
            "e.g. mcr.microsoft.com/azuredocs/azure-vote-front:v1"
        ),
    ),
]
RegistryTarget = Annotated[
    StrictStr,
    _matching(
        TARGET_RE,
        lambda v: f"{v!r} is not a repo:tag inside the registry; allowed: e.g. azure-vote-front:v1",
    ),
]
RepositoryName = Annotated[
    StrictStr,
    _matching(
        REPOSITORY_RE,
        lambda v: f"{v!r} is not a repository name; allowed: lowercase path such as largeimage/test",
    ),
]
KubernetesVersion = Annotated[StrictStr, AfterValidator(_kubernetes_version)]
VmSizeName = Annotated[StrictStr, AfterValidator(_vm_size)]
PoolName = Annotated[
    StrictStr,
    _matching(
        POOL_NAME_RE,
        lambda v: (
            f"{v!r} is not an AKS pool name; allowed: a lowercase letter followed by up to 11 lowercase letters "
            "or digits"
        ),
    ),
]
WorkloadName = Annotated[
    StrictStr,
    _matching(
        OBJECT_NAME_RE,
        lambda v: (
            f"{v!r} is not a workload name; allowed: a lowercase letter, then lowercase letters, digits and '-', "
            "at most 30"
        ),
        max_length=30,
    ),
]
LabelValue = Annotated[
    StrictStr, _matching(LABEL_VALUE_RE, lambda v: f"{v!r} is not a Kubernetes label value", max_length=LABEL_VALUE_MAX)
]
Namespace = Annotated[StrictStr, AfterValidator(_namespace)]
Cidr = Annotated[StrictStr, AfterValidator(_cidr)]
# AKS accepts at most 200 API-server authorized IP ranges.
MAX_AUTHORIZED_IP_RANGES = 200


def _authorized_ranges(value: tuple[str, ...]) -> tuple[str, ...]:
    if len(value) > MAX_AUTHORIZED_IP_RANGES:
        raise problem(f"{len(value)} ranges are more than AKS accepts; allowed: at most {MAX_AUTHORIZED_IP_RANGES}")
    seen: dict[ipaddress.IPv4Network | ipaddress.IPv6Network, str] = {}
    repeated = []
    for cidr in value:
        network = ipaddress.ip_network(cidr)
        if network in seen:
            repeated.append(cidr if cidr == seen[network] else f"{cidr} (= {seen[network]})")
        seen.setdefault(network, cidr)
    if repeated:
        raise problem(f"{', '.join(repeated)} listed more than once; allowed: each range once")
    return value


AuthorizedIpRanges = Annotated[tuple[Cidr, ...], AfterValidator(_authorized_ranges)]
ResourceGroupName = Annotated[
    StrictStr,
    _matching(
        RESOURCE_GROUP_RE,
        lambda v: (
            f"{v!r} is not a resource group name; allowed: 1-90 letters, digits, '_', '-', '.', '(' or ')', "
            "not ending in '.'"
        ),
    ),
]
StackReferenceName = Annotated[
    StrictStr,
    _matching(
        STACK_REFERENCE_RE,
        lambda v: (
            f"{v!r} is not a stack reference; allowed: <organization>/<project>/<stack>, e.g. "
            "organization/acr-streaming-ab/registry with the local backend"
        ),
    ),
]
ImageName = Annotated[
    StrictStr,
    _matching(
        IMAGE_NAME_RE,
        lambda v: f"{v!r} is not an image name; allowed: lowercase letters, digits and '-', at most 63",
        empty=True,
    ),
]
CpuQuantity = Annotated[
    StrictStr,
    _checked(
        lambda v: cpu_millicores(v) is not None, lambda v: f"{v!r} is not a CPU quantity; allowed: e.g. 100m or 0.5"
    ),
]
MemoryQuantity = Annotated[
    StrictStr,
    _checked(
        lambda v: memory_bytes(v) is not None, lambda v: f"{v!r} is not a memory quantity; allowed: e.g. 128Mi or 1Gi"
    ),
]
Replicas = Annotated[StrictInt, _in_range(1, 1000)]
Port = Annotated[StrictInt, _checked(lambda v: 1 <= v <= 65535, lambda v: f"{v} is not a TCP port; allowed: 1-65535")]
SystemPoolCount = Annotated[StrictInt, _in_range(1, 1000)]
TimeoutMinutes = Annotated[StrictInt, _in_range(1, 24 * 60, " minutes")]
# A JSON number past 2**53 - 1 loses digits in JavaScript-based tooling (and in float parsing of
# `pulumi config`), so two generations could read alike and a reset would silently not happen.
MAX_SAFE_INTEGER = 2**53 - 1
CacheGeneration = Annotated[
    StrictInt,
    _checked(
        lambda v: 0 <= v <= MAX_SAFE_INTEGER,
        lambda v: f"{v} is not a safe integer generation; allowed: 0-{MAX_SAFE_INTEGER}",
    ),
]
ConfigKeyName = Annotated[
    StrictStr,
    _matching(
        CONFIG_KEY_RE,
        lambda v: f"{v!r} is not a config key name; allowed: a letter, then letters, digits, '_' or '-', at most 64",
    ),
]
RegistryUsername = Annotated[
    StrictStr,
    _matching(USERNAME_RE, lambda v: "not a registry user name; allowed: 1-256 characters, no spaces or ':'"),
]
RegistryResourceId = Annotated[
    StrictStr,
    _matching(
        REGISTRY_ID_RE,
        lambda v: (
            f"{v!r} is not a container registry's resource id; allowed: /subscriptions/<id>/resourceGroups/"
            "<group>/providers/Microsoft.ContainerRegistry/registries/<name>"
        ),
    ),
]
EnvName = Annotated[
    StrictStr,
    _matching(
        ENV_NAME_RE,
        lambda v: f"{v!r} is not an environment variable name; allowed: letters, digits and '_', not a digit first",
    ),
]
ProbePath = Annotated[
    StrictStr,
    _matching(
        PROBE_PATH_RE,
        lambda v: f"{v!r} is not an HTTP path; allowed: '/' then printable characters without spaces, e.g. /healthz",
        max_length=1024,
    ),
]


def _regex(value: str) -> str:
    if not value:
        raise problem("an empty pattern matches every line; allowed: a Python regular expression, e.g. 'listening on'")
    try:
        re.compile(value)
    except re.error as error:
        raise problem(
            f"{value!r} is not a regular expression ({error}); allowed: e.g. 'Listening on port [0-9]+'"
        ) from None
    if len(value) > 1024:
        raise problem("the pattern is longer than 1024 characters; allowed: at most 1024")
    return value


LogPattern = Annotated[StrictStr, AfterValidator(_regex)]
