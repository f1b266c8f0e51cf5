"""``python -m timing`` command line."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import sys
from enum import IntEnum
from pathlib import Path

from contract import DEFAULT_NAMESPACE


class ExitStatus(IntEnum):
    """What `python -m timing` exits with."""

    OK = 0
    FAILURE = 1  # something failed at run time
    USAGE = 2  # the command line or its inputs are wrong
    FLAGGED = 3  # measure: trials were written, but some are flagged (not cold, not all Ready)


def _add_cluster_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("cluster access (live reads)")
    g.add_argument("--stack", metavar="NAME", help="read the kubeconfig from this Pulumi stack's 'kubeconfig' output")
    g.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    g.add_argument("--context", metavar="NAME", help="kubeconfig context (default: the current one)")
    p.add_argument(
        "--namespace",
        "-n",
        action="append",
        metavar="NS",
        help=f"namespace; repeatable (default: every namespace for dumps, {DEFAULT_NAMESPACE} for live reads)",
    )
    p.add_argument("--selector", "-l", metavar="SEL", help="label selector (k=v, k!=v, k, !k, k in (a,b), comma = AND)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="venv/bin/python -m timing", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    r = sub.add_parser("report", help="per-arm cold-start statistics from a cluster, kubectl dumps or a results folder")
    _add_cluster_args(r)
    src = r.add_argument_group("offline sources")
    src.add_argument(
        "--pods", action="append", default=[], metavar="FILE", help="kubectl get pods -A -o json output; repeatable"
    )
    src.add_argument(
        "--events",
        action="append",
        default=[],
        metavar="FILE",
        help="kubectl get events -A -o json (core/v1) or events.events.k8s.io output; repeatable",
    )
    src.add_argument(
        "--results", action="append", default=[], metavar="DIR", help="results folder written by 'measure'; repeatable"
    )
    src.add_argument(
        "--exclude-flagged", action="store_true", help="with --results: leave out trials that were flagged"
    )
    out = r.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="print the streaming-ab/timing-report@2 JSON document")
    out.add_argument("--csv", metavar="FILE", help="write one row per arm to FILE")
    out.add_argument("--plot", metavar="FILE.png", help="write a per-pod waterfall (both arms per trial) to a PNG")
    out.add_argument(
        "--reference", action="store_true", help="print the seeds' published figures beside the measured ones"
    )
    out.add_argument(
        "--image-info",
        metavar="FILE",
        help='JSON {"<image ref>": {"layers": N, "size_bytes": N}} for sizes/layers events do not carry',
    )

    m = sub.add_parser("measure", help="run N cold-start trials of the experiment's workloads")
    _add_cluster_args(m)
    m.add_argument("--trials", type=int, default=5, metavar="N", help="number of trials (default 5)")
    mode = m.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        "--reset",
        choices=("recycle", "purge"),
        help="recycle: bump cacheGeneration and 'pulumi up' (fresh nodes); purge: privileged DaemonSet removes the images",
    )
    mode.add_argument("--warm", action="store_true", help="no reset: measure warm restarts on purpose (seed 004)")
    m.add_argument(
        "--workload", action="append", metavar="NAME", help="only this workload; repeatable (default: all found)"
    )
    m.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS", help="per-phase wait limit (default 600)")
    m.add_argument(
        "--results", default="results", metavar="DIR", help="folder the trials accumulate in (default ./results)"
    )
    m.add_argument(
        "--replicas", type=int, metavar="N", help="replicas per Deployment when a Deployment is found scaled to 0"
    )
    m.add_argument(
        "--purge-image",
        default=None,
        metavar="IMAGE",
        help="image of the purge DaemonSet (needs sh, and nsenter or chroot)",
    )
    m.add_argument("--poll", type=float, default=2.0, metavar="SECONDS", help="polling interval (default 2)")
    m.add_argument(
        "--seed", type=int, default=None, metavar="N", help="seed of the random round and scale-up order (recorded)"
    )
    return parser


def _load(args):
    from timing.sources.inputs import Loaded, api_client, load_dumps, load_live, load_results

    loaded = Loaded()
    offline = bool(args.pods or args.events or args.results)
    if args.pods or args.events:
        if not args.pods:
            raise SystemExit("--events needs --pods (events alone do not say which arm a pod is in)")
        load_dumps(args.pods, args.events, args.namespace, args.selector, into=loaded)
    if args.results:
        load_results(args.results, args.namespace, args.selector, args.exclude_flagged, into=loaded)
    if not offline:
        try:
            client = api_client(args.kubeconfig, args.context, args.stack)
        except Exception as exc:  # noqa: BLE001 - config errors come in many types
            raise SystemExit(
                f"cannot reach a cluster ({exc}); give --stack, --kubeconfig, or offline --pods/--events/--results"
            ) from None
        pool_streaming, artifacts = _stack_evidence(args.stack) if args.stack else ({}, {})
        load_live(
            client,
            args.namespace,
            args.selector,
            into=loaded,
            pool_streaming=pool_streaming,
            streaming_artifacts=artifacts,
        )
    return loaded


def _stack_evidence(stack: str) -> tuple[dict, dict]:
    """The pools' streaming flag read back from ARM now, and the images' artifacts as the stack recorded them."""
    from timing.sources.azure import read_pool_streaming, streaming_artifacts_from_outputs
    from timing.sources.inputs import stack_outputs

    outputs = {k: v.value for k, v in stack_outputs(stack).items()}
    pools = list((outputs.get("pools") or {}).keys())
    pool_streaming: dict = {}
    if outputs.get("clusterId") and pools:
        try:
            pool_streaming = read_pool_streaming(outputs["clusterId"], pools)
        except Exception as exc:  # noqa: BLE001 - credential errors come in many types; the flag stays unknown
            print(f"note: pool flags not read back from ARM ({exc}); streaming stays unverified", file=sys.stderr)
    return pool_streaming, streaming_artifacts_from_outputs(outputs.get("images"))


@contextlib.contextmanager
def _no_cyclic_gc():
    """Parsing a 100 MB dump creates millions of containers and no cycles; the
    cyclic collector would re-scan them over and over (about half of the
    load time), so it is paused for the batch and restored after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def cmd_report(args) -> int:
    from timing.analysis.report import build_report

    image_info = None
    if args.image_info:
        with open(args.image_info) as fh:
            image_info = json.load(fh)
    offline = bool(args.pods or args.events or args.results)
    if args.reference and not offline and not (args.stack or args.kubeconfig or args.context):
        # Reference figures alone need no cluster.
        report = None
    else:
        with _no_cyclic_gc():
            loaded = _load(args)
            report = build_report(
                loaded.pods,
                loaded.events,
                image_info=image_info,
                trials=loaded.trials,
                evidence=loaded.evidence,
            )
            del loaded
    if report is not None and args.csv:
        from timing.rendering.table import write_csv

        write_csv(report, args.csv)
    if report is not None and args.plot:
        from timing.rendering.plot import write_plot

        write_plot(report, args.plot)
    if args.json:
        doc = report if report is not None else {}
        if args.reference:
            from timing.rendering.reference import reference_rows

            doc = dict(doc, reference=reference_rows())
        import orjson

        # Indented for a person at a terminal, compact when piped (orjson: the encoder of the standard
        # library took a tenth of the 10 000-pod budget).
        option = orjson.OPT_INDENT_2 if sys.stdout.isatty() else 0
        sys.stdout.write(orjson.dumps(doc, option=option).decode())
        sys.stdout.write("\n")
        return ExitStatus.OK
    # rich is imported only for the human output: --json stays lean.
    from rich.console import Console

    from timing.rendering.table import print_report, reference_table

    console = Console(width=None if sys.stdout.isatty() else 200)
    if report is None:
        console.print(reference_table(None))
    else:
        print_report(report, console, reference=args.reference)
    return ExitStatus.OK


def cmd_measure(args) -> int:
    from rich.console import Console

    from timing.measure.discovery import TrialError, discover, plan_rounds
    from timing.measure.progress import RichProgress
    from timing.measure.resets import NoReset, PurgeReset, RecycleReset
    from timing.measure.runner import Runner
    from timing.sources.cluster import KubeCluster, PulumiStack, SystemClock
    from timing.sources.inputs import api_client

    console = Console(stderr=True)
    if args.reset == "recycle" and not args.stack:
        console.print("--reset recycle needs --stack NAME (it changes the stack's cacheGeneration and runs pulumi up)")
        return ExitStatus.USAGE
    if args.trials < 1:
        console.print("--trials must be at least 1")
        return ExitStatus.USAGE
    clock = SystemClock()
    cluster = KubeCluster(api_client(args.kubeconfig, args.context, args.stack))
    namespaces = args.namespace or [DEFAULT_NAMESPACE]
    resetter: NoReset | RecycleReset | PurgeReset
    if args.warm:
        resetter, mode = NoReset(), "warm"
    elif args.reset == "recycle":
        resetter, mode = (
            RecycleReset(
                PulumiStack(args.stack),
                cluster,
                clock,
                args.timeout,
                args.poll,
                on_output=lambda line: console.log(line.rstrip()),
            ),
            "cold",
        )
    else:
        resetter, mode = PurgeReset(cluster, clock, args.timeout, args.poll, image=args.purge_image), "cold"
    try:
        workloads = discover(cluster, namespaces, args.selector, args.workload, args.replicas)
    except TrialError as exc:
        console.print(f"[red]{exc}[/red]")
        return ExitStatus.USAGE
    for r in plan_rounds(workloads):
        for note in r["notes"]:
            console.print(f"[yellow]note:[/yellow] {note}")
    evidence_reader = None
    if args.stack:
        stack = args.stack

        def evidence_reader(pools: list[str]) -> tuple[dict, dict]:
            return _stack_evidence(stack)

    runner = Runner(
        cluster,
        resetter,
        clock,
        Path(args.results),
        mode=mode,
        timeout=args.timeout,
        poll=args.poll,
        progress=RichProgress(console),
        evidence_reader=evidence_reader,
        seed=args.seed,
    )
    try:
        manifests = runner.run(workloads, args.trials)
    except TrialError as exc:
        console.print(f"[red]stopped: {exc}[/red]")
        return ExitStatus.FAILURE
    flagged = [m for m in manifests if m["flagged"]]
    unexpected = [m for m in manifests if m.get("unexpected")]
    console.print(f"{len(manifests)} trial(s) written to {args.results}; {len(flagged)} flagged (seed {runner.seed}).")
    for m in flagged:
        console.print(f"  [yellow]{m['id']}[/yellow] #{m['index']} {m['verdict']}: {'; '.join(m['reasons'])}")
    console.print(f"analyse with: venv/bin/python -m timing report --results {args.results}")
    # The first trial is flagged on purpose (registry warming), which is no failure of the run.
    return ExitStatus.OK if not unexpected else ExitStatus.FLAGGED


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "report":
        return cmd_report(args)
    return cmd_measure(args)
