"""`report`: check the flags, load pods, events and evidence from their source, build the report."""

from __future__ import annotations

import contextlib
import gc
import json
import sys
from pathlib import Path

from contract import DEFAULT_NAMESPACE
from timing.cli.access import check_kubeconfig, connect
from timing.cli.output import check_outputs, show_report, stdout_closed, write_files
from timing.cli.parser import PLOT_FORMATS, message_name
from timing.errors import ExitStatus, TimingError, UsageError, first_line


def _is_offline(args) -> bool:
    return bool(args.pods or args.events or args.results or args.nodes)


def _check_report_args(args) -> None:
    offline = _is_offline(args)
    live = [
        flag
        for flag, value in (("--stack", args.stack), ("--kubeconfig", args.kubeconfig), ("--context", args.context))
        if value
    ]
    if offline and live:
        raise UsageError(
            f"{', '.join(live)} read a cluster, --pods/--events/--results read files: give one or the other"
        )
    if args.exclude_flagged:
        raise UsageError(
            "--exclude-flagged: flagged trials are now left out by default; --include-flagged puts them back"
        )
    if args.events and not args.pods:
        raise UsageError("--events needs --pods: events alone do not say which arm a pod is in")
    if args.nodes and not (args.pods or args.results):
        raise UsageError("--nodes needs --pods or --results: it adds node facts to the pods those read")
    _check_output_paths(args)
    check_kubeconfig(args)


REPORT_FILES = ("--csv", "--plot", "--html", "--markdown", "--crossover-plot")


def _check_output_paths(args) -> None:
    """Every file flag names its own file in an existing folder, never one this report reads."""
    targets = {flag: getattr(args, flag[2:].replace("-", "_")) for flag in REPORT_FILES}
    targets["--json"] = args.json
    inputs = [*args.pods, *args.events, *args.nodes, *args.results, *([args.image_info] if args.image_info else [])]
    check_outputs(targets, inputs)
    for flag, target in (("--plot", args.plot), ("--crossover-plot", args.crossover_plot)):
        suffix = Path(target).suffix.lower().lstrip(".") if target else None
        if target and suffix not in PLOT_FORMATS:
            raise UsageError(
                f"{flag} {target}: unsupported picture format {suffix or '(none)'!r}; allowed: {', '.join(PLOT_FORMATS)}"
            )


def _image_info(path: str | None) -> dict | None:
    if not path:
        return None
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UsageError(f"--image-info {path}: no such file") from None
    except (OSError, ValueError) as error:
        raise UsageError(f"--image-info {path}: not readable JSON ({error})") from None
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise UsageError(f'--image-info {path}: expected {{"<image ref>": {{"layers": N, "size_bytes": N}}}}')
    return doc


def _load(args):
    from timing.sources.inputs import Loaded, load_dumps, load_live
    from timing.sources.results import load_results

    loaded = Loaded()
    offline = _is_offline(args)
    if args.pods:
        load_dumps(args.pods, args.events, args.namespace, args.selector, into=loaded)
    if args.results:
        load_results(args.results, args.namespace, args.selector, into=loaded)
    for path in args.nodes:
        loaded.add_node_file(Path(path))
    if not offline:
        cluster = connect(args)
        if args.stack:
            from timing.sources.stack import stack_evidence

            pool_streaming, artifacts = stack_evidence(args.stack)
        else:
            pool_streaming, artifacts = {}, {}
        try:
            load_live(
                cluster,
                args.namespace,
                args.selector,
                into=loaded,
                pool_streaming=pool_streaming,
                streaming_artifacts=artifacts,
            )
        except TimingError:
            raise
        except Exception as error:  # noqa: BLE001 - API errors (403, connection refused ...) in many types
            raise TimingError(f"reading the cluster failed: {first_line(error)}") from error
    _say_why_empty(args, loaded, offline)
    return loaded


def _say_why_empty(args, loaded, offline: bool) -> None:
    """No pod to report: say which of the possible causes it is, never just "nothing"."""
    if loaded.pods:
        return
    where = (
        ", ".join(args.pods + args.results)
        if offline
        else f"namespace(s) {', '.join(args.namespace or [DEFAULT_NAMESPACE])}"
    )
    if loaded.seen_pods == 0:
        from timing.sources.results import all_incomplete

        why = all_incomplete(loaded.trials) or "no pods in it"
        raise UsageError(f"{where}: {why}" + ("" if offline else " (is the stack deployed, the namespace right?)"))
    if loaded.armed_pods == 0:
        raise UsageError(
            f"{where}: none of its {loaded.seen_pods} pods carries the streaming-ab/arm label; "
            "these are not pods of this experiment"
        )
    filters = []
    if args.namespace and offline:
        filters.append(f"in namespace(s) {', '.join(args.namespace)}")
    if args.selector:
        filters.append(f"matching --selector {args.selector!r}")
    raise UsageError(f"{where}: {loaded.armed_pods} experiment pod(s), but none {' and '.join(filters) or 'selected'}")


@contextlib.contextmanager
def _no_cyclic_gc(restore: bool = True):
    """Parsing a 100 MB dump creates millions of containers and no cycles; the
    cyclic collector would re-scan them over and over (about half of the
    load time), so it is paused for the whole command and restored after: the
    report is dropped before that, or the first collection would scan it once more.
    A process that ends with the command (``run``) leaves it paused."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled and restore:
            gc.enable()


# Reports kept to the end of a process that exits without freeing them (``timing.cli.run``): freeing the
# objects of 100 000 pods one by one took 0.45 s, for memory the operating system takes back at once.
KEPT_UNTIL_EXIT: list[dict] = []


def build_for(args) -> dict | None:
    """The report the flags ask for (None: `--reference` alone, which needs no input)."""
    from timing.analysis.report import build_report

    _check_report_args(args)
    image_info = _image_info(args.image_info)
    if args.reference and not _is_offline(args) and not (args.stack or args.kubeconfig or args.context):
        asked = [flag for flag in REPORT_FILES if getattr(args, flag[2:].replace("-", "_"))]
        if asked:
            raise UsageError(
                f"{', '.join(asked)}: --reference alone holds no measured run to draw or tabulate; "
                "add --results, --pods or a cluster (--json writes the reference figures)"
            )
        return None
    with _no_cyclic_gc():
        loaded = _load(args)
        return build_report(
            loaded.pods,
            loaded.take_events(),
            image_info=image_info,
            trials=loaded.trials,
            evidence=loaded.evidence,
            events_given=loaded.events_given,
            nodes=loaded.nodes,
            include_flagged=args.include_flagged,
        )


def _gates(args, report: dict | None):
    from timing.analysis.gating import GateResult, evaluate_gates

    if args.fail_below is None and not args.require_verified:
        return GateResult()
    return evaluate_gates(report or {}, args.fail_below, args.require_verified)


def cmd_report(args) -> int:
    exits = getattr(args, "process_exits", False)
    with _no_cyclic_gc(restore=not exits):
        report = build_for(args)
        gates = _gates(args, report)
        write_files(args, report, gates.failures)
        try:
            show_report(args, report)
        except BrokenPipeError:
            stdout_closed()  # `| head` read what it wanted: not an error, and the gates below still decide
        if exits and report is not None:
            KEPT_UNTIL_EXIT.append(report)
        del report
    name = message_name()
    for line in gates.notes:
        print(f"{name}: note: {line}", file=sys.stderr)
    for line in gates.failures:
        print(f"{name}: gate failed: {line}", file=sys.stderr)
    return ExitStatus.GATE_FAILED if gates.failed else ExitStatus.OK
