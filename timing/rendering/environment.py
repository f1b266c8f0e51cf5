"""Where and when a report's trials ran, as far as the report records it ("not recorded" otherwise).

Node facts are read from the report's node records (top-level ``nodes`` and each trial's
``node_facts``), by the kubectl label or field name or the report's own snake_case name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

NOT_RECORDED = "not recorded"
# fact -> the names a node record may carry it under (report key, kubectl label, Node status field)
NODE_FACTS: dict[str, tuple[str, ...]] = {
    "region": ("region", "topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region"),
    "zones": ("zone", "topology.kubernetes.io/zone"),
    "VM sizes": ("vm_size", "instance_type", "node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type"),
    "node image": ("node_image_version", "node_image", "kubernetes.azure.com/node-image-version"),
    "kubelet": ("kubelet_version", "kubeletVersion"),
    "containerd": ("containerd_version", "container_runtime_version", "containerRuntimeVersion"),
}


def _records(report: Mapping) -> Iterable[Mapping]:
    """Every node record in the report: a mapping itself, its labels and its status.nodeInfo flattened in."""
    sources: list = [report.get("nodes")]
    sources += [t.get("node_facts") for t in report.get("trials") or () if isinstance(t, Mapping)]
    for source in sources:
        items = source.values() if isinstance(source, Mapping) else source or ()
        for item in items:
            if not isinstance(item, Mapping):
                continue
            flat = dict(item)
            flat.update((item.get("metadata") or {}).get("labels") or {})
            flat.update(item.get("labels") or {})
            flat.update((item.get("status") or {}).get("nodeInfo") or {})
            yield flat


def _values(records: Iterable[Mapping], names: tuple[str, ...]) -> list[str]:
    found: set[str] = set()
    for r in records:
        for name in names:
            value = r.get(name)
            if isinstance(value, (str, int, float)) and str(value):
                found.add(str(value))
                break
    return sorted(found)


def _dates(report: Mapping) -> str:
    """UTC days the trials ran: the manifests' start times, else the first pod creation of each arm's trial."""
    starts = sorted(str(t["started_at"]) for t in report.get("trials") or () if t.get("started_at"))
    source = "from the trial manifests' start times"
    if not starts:
        arm_trials = [t for a in (report.get("arms") or {}).values() for t in a.get("trials") or ()]
        starts = sorted(str(t["created_at"]) for t in arm_trials if t.get("created_at"))
        source = "from pod creation times"
    if not starts:
        return NOT_RECORDED
    first, last = starts[0][:10], starts[-1][:10]
    return f"{first if first == last else f'{first} to {last}'} (UTC, {source})"


def _trial_count(report: Mapping) -> str:
    trials = {t.get("trial") for a in (report.get("arms") or {}).values() for t in a.get("trials") or ()}
    manifests = report.get("trials") or []
    text = f"{len(trials)} in the pods"
    if manifests:
        flagged = sum(1 for t in manifests if t.get("flagged"))
        text += f"; {len(manifests)} trial manifest(s), {flagged} flagged"
    return text


def _regions_of_zones(zones: list[str]) -> list[str]:
    """AKS zone labels read ``<region>-<n>`` (``westus3-1``); a node outside any zone says ``0``: no region."""
    return sorted({z.rsplit("-", 1)[0] for z in zones if "-" in z and z.rsplit("-", 1)[1].isdigit()})


def environment(report: Mapping) -> list[tuple[str, str]]:
    """(fact, value) in a fixed order; a value the report does not hold is "not recorded"."""
    records = list(_records(report))
    found = {fact: _values(records, names) for fact, names in NODE_FACTS.items()}
    if not found["region"]:
        found["region"] = _regions_of_zones(found["zones"])
    out = [(fact, ", ".join(values) or NOT_RECORDED) for fact, values in found.items()]
    pools = sorted({str(a.get("pool")) for a in (report.get("arms") or {}).values() if a.get("pool")})
    out.append(("node pools", ", ".join(pools) or NOT_RECORDED))
    out.append(("dates", _dates(report)))
    out.append(("trials", _trial_count(report)))
    out.append(("pods", str(len(report.get("pods") or []))))
    out.append(("report schema", str(report.get("schema") or NOT_RECORDED)))
    return out
