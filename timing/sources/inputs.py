"""Where pods and events come from: kubectl dumps or a cluster (a results folder: ``results.py``).

Every source yields the same ``kubectl get ... -o json`` shapes, so the
analysis never knows which one it got.  Raw items are reduced to ``PodInfo``
/ ``PullEvent`` as soon as they are read and then dropped; dump files are
parsed one item at a time where their layout allows (docs/timing.md,
"timing/sources/dumpfile.py"), so a 10 000-pod dump never exists as one Python object tree.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from contract import DEFAULT_NAMESPACE, LABEL_ARM
from timing.errors import UsageError
from timing.model.applog import app_times, pattern_ready_time
from timing.model.events import normalize_events
from timing.model.evidence import Evidence
from timing.model.pods import PodInfo, pod_from_dict
from timing.sources.cluster import APP_LOG_BYTES, ClusterReader
from timing.sources.dumpfile import DumpFile, NotRegularFile, TooLarge
from timing.sources.selectors import Selector, parse_selector


class SameForEveryTrial(dict):
    """Evidence read once (a live cluster) that stands for every trial in it."""

    def __init__(self, evidence: Evidence):
        super().__init__()
        self.evidence = evidence

    def get(self, key, default=None):
        return self.evidence


@dataclass
class Loaded:
    pods: list[PodInfo] = field(default_factory=list)
    events: list = field(default_factory=list)
    trials: list[dict] | None = None
    evidence: dict = field(default_factory=dict)  # trial id -> Evidence
    app_logs: dict[str, str] = field(default_factory=dict)  # pod uid -> log text
    events_given: bool = False  # a source of events was read (a dump, a results folder, a cluster)
    nodes: list[dict] = field(default_factory=list)  # Node objects (report --nodes, or the live nodes the pods ran on)
    # What the pod sources held, to say why a report is empty: Pod items, those with the arm label.
    seen_pods: int = 0
    armed_pods: int = 0
    other_kinds: Counter = field(default_factory=Counter)
    _seen_events: set = field(default_factory=set)

    def apply_app_logs(self) -> None:
        """Each pod's app-ready time from its own log line (the project's images write one), or from
        the first line matching its custom workload's pattern."""
        for p in self.pods:
            text = self.app_logs.get(p.uid or "")
            if text and p.app_ready_log:
                p.app_ready_at = pattern_ready_time(text, p.app_ready_log)
            elif text:
                p.app_ready_at = app_times(text).get("ready")

    def take_events(self) -> list:
        """The events, no longer held here: the report lets them go once it has classified the pods."""
        events, self.events = self.events, []
        return events

    def add_pod_items(self, items: Iterable[dict], namespaces: Sequence[str] | None, selector: Selector, trial=None):
        ns = set(namespaces) if namespaces else None
        for item in items:
            kind = item.get("kind")
            if kind is not None and kind != "Pod":
                self.other_kinds[kind] += 1
                continue
            self.seen_pods += 1
            meta = item.get("metadata") or {}
            labels = meta.get("labels") or {}
            # Pods outside every arm never reach the report; skipping them here
            # also keeps their events from being parsed.
            if LABEL_ARM not in labels:
                continue
            self.armed_pods += 1
            if ns is not None and meta.get("namespace") not in ns:
                continue
            if not selector.matches(labels):
                continue
            self.pods.append(pod_from_dict(item, trial=trial))

    def add_event_items(self, items: Iterable[dict], namespaces: Sequence[str] | None, only_loaded_pods: bool = False):
        self.events_given = True
        wanted = {(p.namespace, p.name) for p in self.pods} if only_loaded_pods else None
        # De-duplicated among these items first, then against the events
        # already loaded (the same events, in the same order, as one pass
        # over both), so nothing changes here until every item has been read:
        # _add_file can then retry a file without undoing anything.
        seen: set = set()
        evs = normalize_events(items, seen, wanted)
        if self._seen_events:
            evs = [e for e in evs if not e.uid or e.uid not in self._seen_events]
        if namespaces:
            ns = set(namespaces)
            evs = [e for e in evs if e.namespace in ns]
        self._seen_events |= seen
        self.events.extend(evs)

    def add_pod_file(
        self, path: Path, namespaces: Sequence[str] | None, selector: Selector, trial=None, flag: str = "--pods"
    ):
        seen, others = self.seen_pods, Counter(self.other_kinds)
        self._add_file(path, lambda items: self.add_pod_items(items, namespaces, selector, trial=trial), flag)
        found = self.other_kinds - others
        if self.seen_pods == seen and found:
            kinds = ", ".join(f"{n} {k}" for k, n in found.most_common())
            hint = "; give it to --events" if "Event" in found else ""
            raise UsageError(f"{flag} {path} holds {kinds} object(s), not Pods (kubectl get pods -A -o json){hint}")

    def add_node_file(self, path: Path, flag: str = "--nodes") -> None:
        """A ``kubectl get nodes -o json`` dump: its Node items are kept whole (a cluster has few)."""
        try:
            doc = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            raise UsageError(f"{flag} {path}: no such file") from None
        except IsADirectoryError:
            raise UsageError(f"{flag} {path} is a folder; give the file kubectl wrote") from None
        except OSError as error:
            raise UsageError(f"{flag} {path}: cannot read it ({error.strerror})") from None
        except orjson.JSONDecodeError as error:
            raise UsageError(
                f"{flag} {path}: not JSON ({error}); take it again with kubectl get nodes -o json"
            ) from None
        items = checked_items(doc, flag, path)
        kinds = Counter(item.get("kind") or "Node" for item in items)
        if items and not kinds.get("Node"):
            listed = ", ".join(f"{n} {k}" for k, n in kinds.most_common())
            raise UsageError(f"{flag} {path} holds {listed} object(s), not Nodes (kubectl get nodes -o json)")
        self.nodes.extend(item for item in items if (item.get("kind") or "Node") == "Node")

    def add_event_file(
        self, path: Path, namespaces: Sequence[str] | None, only_loaded_pods: bool = False, flag: str = "--events"
    ):
        kinds: Counter = Counter()

        def add(items: Iterable[dict]) -> None:
            kinds.clear()  # a retry of the file as one document counts afresh
            rest = iter(items)

            def counted():
                # The kinds only matter when no item is an Event: counted up to the first Event.
                for item in rest:
                    kind = item.get("kind") or "Event"
                    kinds[kind] += 1
                    yield item
                    if kind == "Event":
                        return

            self.add_event_items(itertools.chain(counted(), rest), namespaces, only_loaded_pods)

        self._add_file(path, add, flag)
        if kinds and not kinds.get("Event"):
            listed = ", ".join(f"{n} {k}" for k, n in kinds.most_common())
            hint = "; give it to --pods" if "Pod" in kinds else ""
            raise UsageError(
                f"{flag} {path} holds {listed} object(s), not Events (kubectl get events -A -o json){hint}"
            )

    def _add_file(self, path: Path, add: Callable[[Iterable[dict]], None], flag: str = "--pods") -> None:
        """Feed a dump's items to ``add``, parsed one by one when the layout
        allows it (``timing.sources.dumpfile``), else as one document.

        If anything fails on the item-by-item path (a piece that does not
        parse, or ``add`` itself), the pods added are taken back (events are
        only added once all items are read) and the file is done again as one
        document, so results and errors are exactly those of parsing the file
        whole.
        """
        try:
            dump = DumpFile(path)
        except FileNotFoundError:
            raise UsageError(f"{flag} {path}: no such file") from None
        except IsADirectoryError:
            raise UsageError(f"{flag} {path} is a folder; give the file kubectl wrote") from None
        except NotRegularFile:
            raise UsageError(
                f"{flag} {path} is not a regular file (a FIFO or a device); give the file kubectl wrote, or - for stdin"
            ) from None
        except TooLarge as error:
            raise UsageError(
                f"{flag} {path}: too large ({error}); narrow the dump (kubectl get ... -n NS -l SELECTOR)"
            ) from None
        except OSError as error:
            raise UsageError(f"{flag} {path}: cannot read it ({error.strerror})") from None
        with dump:
            if not len(dump.data):
                raise UsageError(f"{flag} {path}: the file is empty; take the dump again with kubectl ... -o json")
            counters = (self.seen_pods, self.armed_pods, Counter(self.other_kinds))
            items = dump.split_items()
            if items is not None:
                n_pods = len(self.pods)
                try:
                    add(items)
                    return
                except Exception:
                    del self.pods[n_pods:]
                    self.seen_pods, self.armed_pods, self.other_kinds = counters
            # orjson: the standard library parser alone took about 1 s of the
            # 2 s budget on a 10 000-pod dump.
            try:
                doc = dump.parse()
            except orjson.JSONDecodeError as error:
                raise UsageError(
                    f"{flag} {path}: not JSON ({error}); a truncated or garbled dump? take it again with kubectl ... -o json"
                ) from None
            add(checked_items(doc, flag, path))


def checked_items(doc, flag: str, path) -> list[dict]:
    """The objects of a kubectl document (a List, one object, or a JSON array), or a usage error saying why not."""
    if isinstance(doc, dict) and "items" in doc:
        items = doc["items"]
        if not isinstance(items, list):
            raise UsageError(f'{flag} {path}: its "items" is not a list; is it a kubectl List?')
    elif isinstance(doc, dict) and doc.get("kind"):
        items = [doc]
    elif isinstance(doc, list):
        items = doc
    else:
        raise UsageError(f"{flag} {path}: not a kubectl List or object (kubectl get ... -o json writes one)")
    bad = sum(1 for item in items if not isinstance(item, dict))
    if bad:
        raise UsageError(f"{flag} {path}: {bad} of its {len(items)} items are not objects")
    return items


def load_dumps(
    pod_files: Sequence[str],
    event_files: Sequence[str],
    namespaces: Sequence[str] | None = None,
    selector: str | None = None,
    into: Loaded | None = None,
) -> Loaded:
    """Several pod dumps: each is one trial (its pods' trial label, when they carry one, wins)."""
    out = into or Loaded()
    sel = selector_or_usage(selector)
    for i, f in enumerate(pod_files, start=1):
        first = len(out.pods)
        out.add_pod_file(Path(f), namespaces, sel)
        if len(pod_files) > 1:
            for p in out.pods[first:]:
                if p.trial is None:
                    p.trial = f"dump-{i}"
    for f in event_files:
        out.add_event_file(Path(f), namespaces, only_loaded_pods=True)
    return out


def selector_or_usage(text: str | None) -> Selector:
    try:
        return parse_selector(text)
    except ValueError as error:
        raise UsageError(
            f"--selector {text!r}: {error}; allowed: k=v, k!=v, k, !k, k in (a,b), k notin (a,b), comma = AND"
        ) from None


# --- live cluster -----------------------------------------------------------


def load_live(
    cluster: ClusterReader,
    namespaces: Sequence[str] | None = None,
    selector: str | None = None,
    into: Loaded | None = None,
    pool_streaming: dict[str, bool | None] | None = None,
    streaming_artifacts: dict[str, bool] | None = None,
) -> Loaded:
    """Pods, events and app logs per namespace, plus the labels of the nodes the pods run on.

    Node images are not read for the cold check: after the pods ran, every node holds their image.
    """
    out = into or Loaded()
    namespaces = list(namespaces or [DEFAULT_NAMESPACE])
    everything = parse_selector(None)
    selector_or_usage(selector)  # the API server would refuse it less clearly
    for ns in namespaces:
        out.add_pod_items(cluster.list_pods(ns, selector or ""), [ns], everything)
        out.add_event_items(cluster.list_events(ns), [ns])
    for p in out.pods:
        app = next((c for c in p.containers if not c.init), None)
        if p.uid and app is not None:
            text = cluster.read_pod_log(p.namespace, p.name, app.name, APP_LOG_BYTES)
            if text:
                out.app_logs[p.uid] = text
    out.apply_app_logs()
    on = {p.node for p in out.pods if p.node}
    node_labels = {}
    if on:
        # One list of every node (a cluster has few): the nodes the arms ran on, whatever their labels.
        for n in cluster.list_nodes(""):
            meta = n.get("metadata") or {}
            if meta.get("name") in on:
                node_labels[meta["name"]] = dict(meta.get("labels") or {})
                out.nodes.append(n)
    out.evidence = SameForEveryTrial(
        Evidence(
            pool_streaming=dict(pool_streaming or {}),
            node_labels=node_labels,
            node_images_before=None,
            streaming_artifacts=dict(streaming_artifacts or {}),
        )
    )
    return out
