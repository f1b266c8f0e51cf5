"""The results folder: ``measure`` writes one folder per trial, ``report --results`` reads them back.

``<results>/<trial id>/`` holds ``trial.json`` (the manifest), ``pods.json`` and ``events.json``
(``kubectl get ... -o json`` shapes), ``verification.json`` (the evidence: nodes, ARM, probes parsed),
``logs.json`` (each pod's app log) and ``probe/<stage>/<node>.txt`` (each node probe's raw output).
This module is the only one that knows it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from timing.errors import UsageError, first_line
from timing.model.evidence import Evidence
from timing.sources.inputs import Loaded, selector_or_usage
from timing.sources.selectors import Selector

TRIAL_MANIFEST = "trial.json"
PODS_FILE = "pods.json"
EVENTS_FILE = "events.json"
EVIDENCE_FILE = "verification.json"  # read before the trial's pods were created (measure)
LOGS_FILE = "logs.json"  # {pod uid: log text} of each pod's first app container
PROBE_DIR = "probe"  # probe/<stage>/<node>.txt: the node probe's output as printed
# A trial folder without its manifest, pods or events (measure stopped in it): its pods are not read at all.
INCOMPLETE = "incomplete"


# --- write (measure) -------------------------------------------------------------------------------
def _write_json(path: Path, doc) -> None:
    path.write_text(json.dumps(doc, indent=2) + "\n")


def _list_doc(items: list[dict]) -> dict:
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


def write_snapshot(folder: Path, pods: list[dict], events: list[dict]) -> None:
    """The trial's pods and events as kubectl would print them (``report --pods/--events`` reads them too)."""
    folder.mkdir(parents=True, exist_ok=True)
    for item in pods:
        item.setdefault("apiVersion", "v1")
        item.setdefault("kind", "Pod")
    for item in events:
        item.setdefault("apiVersion", "v1")
        item.setdefault("kind", "Event")
    _write_json(folder / PODS_FILE, _list_doc(pods))
    _write_json(folder / EVENTS_FILE, _list_doc(events))


def write_evidence(folder: Path, evidence: Evidence) -> None:
    _write_json(folder / EVIDENCE_FILE, evidence.to_json())


def write_probe_outputs(folder: Path, stage: str, outputs: dict[str, str]) -> None:
    """The probe's raw lines per node, so the parsed evidence can always be checked against them."""
    where = folder / PROBE_DIR / stage
    where.mkdir(parents=True, exist_ok=True)
    for node, text in outputs.items():
        (where / f"{node}.txt").write_text(text)


def write_app_logs(folder: Path, logs: dict[str, str]) -> None:
    _write_json(folder / LOGS_FILE, logs)


def write_manifest(folder: Path, manifest: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _write_json(folder / TRIAL_MANIFEST, manifest)


# --- read (report) ---------------------------------------------------------------------------------
def _is_trial(folder: Path) -> bool:
    # Any file measure writes marks a trial folder: one it stopped in may lack the manifest.
    return any((folder / name).exists() for name in (TRIAL_MANIFEST, PODS_FILE, EVENTS_FILE, EVIDENCE_FILE))


def trial_dirs(results: Path) -> list[Path]:
    """Trial folders under ``results`` (or ``results`` itself if it is one), in index order."""
    if _is_trial(results):
        return [results]
    dirs = [d for d in results.iterdir() if d.is_dir() and _is_trial(d)]

    def key(d: Path):
        try:
            m = json.loads((d / TRIAL_MANIFEST).read_text())
            return (m.get("started_at") or "", m.get("index") or 0, d.name)
        except (OSError, ValueError, AttributeError):
            return ("", 0, d.name)

    return sorted(dirs, key=key)


def _manifest(folder: Path) -> tuple[dict, str | None]:
    """The trial's manifest, and why the trial is incomplete (None if it is not)."""
    try:
        manifest = json.loads((folder / TRIAL_MANIFEST).read_text())
    except FileNotFoundError:
        return {}, f"{INCOMPLETE}: no {TRIAL_MANIFEST}"
    except (OSError, ValueError) as error:
        return {}, f"{INCOMPLETE}: {TRIAL_MANIFEST} unreadable ({str(error).splitlines()[0]})"
    if not isinstance(manifest, dict):
        return {}, f"{INCOMPLETE}: {TRIAL_MANIFEST} is not an object"
    missing = [name for name in (PODS_FILE, EVENTS_FILE) if not (folder / name).is_file()]
    return manifest, f"{INCOMPLETE}: no {' or '.join(missing)}" if missing else None


def _trial_entry(manifest: dict, folder: Path) -> dict:
    """A trial as the report lists it; ``included`` (in the headline or not) is decided by the report."""
    arms = manifest.get("arms") or {}
    return {
        "id": manifest.get("id") or folder.name,
        "path": str(folder),
        "index": manifest.get("index"),
        "mode": manifest.get("mode"),
        "reset": manifest.get("reset"),
        "workloads": manifest.get("workloads"),
        "verdict": manifest.get("verdict"),
        "flagged": bool(manifest.get("flagged")),
        "incomplete": False,  # set by load_results when the folder lacks its manifest, pods or events
        "reasons": manifest.get("reasons", []),
        "flags": manifest.get("flags", []),  # protocol flags (reset_failed, node_image_mismatch, ...)
        "first_trial": bool(manifest.get("first_trial")),
        "unexpected": bool(manifest.get("unexpected")),
        # Replicas each arm's Deployments asked for: fewer pods is the missing_pods flag.
        "replicas": {
            name: arm["replicas"] for name, arm in arms.items() if isinstance(arm, dict) and arm.get("replicas")
        },
        # Where and when the trial ran, for the environment of a hand-on report (--html, --markdown).
        "started_at": manifest.get("started_at"),
        "node_facts": manifest.get("node_facts"),
    }


def _json_object(path: Path) -> dict | None:
    """A trial's JSON object file, or None when the trial has none."""
    if not path.exists():
        return None
    doc = json.loads(path.read_text())
    if not isinstance(doc, dict):
        raise ValueError(f"a JSON {type(doc).__name__}, not the object measure writes")
    return doc


def _read_trial(out: Loaded, folder: Path, trial_id: str, namespaces, sel: Selector) -> str | None:
    """The trial's files into ``out``; if one cannot be read, why (and all it added is taken back).

    Only a file that cannot be read as what measure writes leaves the trial out; a pod whose fields
    are wrong stops the report, as it does from a dump (``--pods``), instead of silently thinning a trial.
    """
    mark = (len(out.pods), len(out.events), out.seen_pods, out.armed_pods, Counter(out.other_kinds))
    unreadable: tuple[type[Exception], ...] = (OSError, ValueError)
    read: dict[str, tuple[Callable[[], object], tuple[type[Exception], ...]]] = {
        PODS_FILE: (
            lambda: out.add_pod_file(folder / PODS_FILE, namespaces, sel, trial=trial_id, flag="--results"),
            (),
        ),
        EVENTS_FILE: (lambda: out.add_event_file(folder / EVENTS_FILE, namespaces, flag="--results"), ()),
        EVIDENCE_FILE: (lambda: _json_object(folder / EVIDENCE_FILE), unreadable),
        LOGS_FILE: (lambda: _json_object(folder / LOGS_FILE), unreadable),
    }
    got: dict[str, Any] = {}
    for name, (reader, unreadable_here) in read.items():
        try:
            got[name] = reader()
        except UsageError as error:
            # "--results <path>: not JSON (...); take it again ...": what is wrong, without the flag or the advice
            detail = str(error).removeprefix(f"--results {folder / name}").lstrip(": ").split("; ")[0]
        except unreadable_here as error:
            detail = first_line(error)
        else:
            continue
        n_pods, n_events, out.seen_pods, out.armed_pods, out.other_kinds = mark
        del out.pods[n_pods:], out.events[n_events:]
        return f"{INCOMPLETE}: {name} could not be read: {detail}"
    if got[EVIDENCE_FILE] is not None:
        out.evidence[trial_id] = Evidence.from_json(got[EVIDENCE_FILE])
    out.app_logs.update(got[LOGS_FILE] or {})
    return None


def load_results(
    results_dirs: Sequence[str],
    namespaces: Sequence[str] | None = None,
    selector: str | None = None,
    into: Loaded | None = None,
) -> Loaded:
    """Every trial is read, flagged ones too: the report decides what enters the headline and counts the rest."""
    out = into or Loaded()
    out.trials = out.trials or []
    sel = selector_or_usage(selector)
    for results in results_dirs:
        root = Path(results)
        if not root.is_dir():
            raise UsageError(f"--results {root}: no such folder (measure --results DIR writes one)")
        dirs = trial_dirs(root)
        if not dirs:
            raise UsageError(
                f"--results {root}: no trial in it (no */{TRIAL_MANIFEST}); is it the folder measure wrote?"
            )
        for d in dirs:
            manifest, incomplete = _manifest(d)
            trial = _trial_entry(manifest, d)
            out.trials.append(trial)
            incomplete = incomplete or _read_trial(out, d, trial["id"], namespaces, sel)
            if incomplete:
                # Left out whole and said, never refused: a partial measure run must stay reportable.
                trial.update(flagged=True, incomplete=True, reasons=[*trial["reasons"], incomplete])
                trial["flags"] = [*trial["flags"], INCOMPLETE]
    out.apply_app_logs()
    return out


def all_incomplete(trials: Sequence[dict] | None, most: int = 5) -> str | None:
    """When every trial read was left out as incomplete: which and why, in one line (else None)."""
    if not trials or not all(t.get("incomplete") for t in trials):
        return None
    said = [
        f"{t['id']} ({'; '.join(r.removeprefix(f'{INCOMPLETE}: ') for r in t['reasons'] if r.startswith(INCOMPLETE))})"
        for t in trials[:most]
    ]
    more = f", and {len(trials) - most} more" if len(trials) > most else ""
    return f"every trial ({len(trials)}) was left out as incomplete: {', '.join(said)}{more}"
