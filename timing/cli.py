"""``venv/bin/python -m timing`` command line: `report` and `measure`.

Every mistake ends in one line on stderr naming the flag, file or value (exit 2); a failure at run
time in one line too (exit 1); `--debug` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import json
import sys
import traceback
from enum import IntEnum
from pathlib import Path

from contract import DEFAULT_NAMESPACE
from timing.errors import TimingError, UsageError

PROG = "venv/bin/python -m timing"
PLOT_FORMATS = ("png", "pdf", "svg")


class ExitStatus(IntEnum):
    """What `venv/bin/python -m timing` exits with."""

    OK = 0
    FAILURE = 1  # something failed at run time
    USAGE = 2  # the command line or its inputs are wrong
    FLAGGED = 3  # measure: trials were written, but some are flagged (not cold, not all Ready)
    INTERRUPTED = 130  # Ctrl-C: trials taken are kept, what measure created is removed


class Parser(argparse.ArgumentParser):
    """argparse whose mistakes are one line naming the command, never a usage dump."""

    commands: dict[str, argparse.ArgumentParser]  # name -> its parser, to report its own mistakes

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}; see {self.prog} --help")


REPORT_EXAMPLES = f"""examples:
  {PROG} report --stack dev                                    every arm, live (needs PULUMI_CONFIG_PASSPHRASE)
  {PROG} report --results results --plot waterfall.png         what measure wrote, with a picture
  {PROG} report --pods pods.json --events events.json --json report.json
  {PROG} report --reference                                    the seeds' figures alone
"""
MEASURE_EXAMPLES = f"""examples:
  {PROG} measure --stack dev --reset purge --trials 10         purge node caches between trials
  {PROG} measure --stack dev --reset recycle --trials 5        fresh nodes every trial (pulumi up)
  {PROG} measure --stack dev --warm --trials 3                 warm restarts on purpose (seed 004)
"""


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} must be greater than 0")
        return value

    return parse


def _add_cluster_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("cluster access (live reads)")
    g.add_argument(
        "--stack",
        metavar="NAME",
        help="read the kubeconfig (and the registry's images, the pools' ARM ids) from this Pulumi stack",
    )
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
    p.add_argument("--debug", action="store_true", help="show the traceback of an error")


def build_parser() -> Parser:
    parser = Parser(
        prog=PROG,
        description="Pod start-up timing of the artifact-streaming A/B experiment (docs/timing.md defines every figure).",
        epilog=REPORT_EXAMPLES + MEASURE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    parser.commands = {}

    def command(name: str, summary: str, description: str, examples: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=summary,
            description=description,
            epilog=examples,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.commands[name] = p
        _add_cluster_args(p)
        return p

    r = command(
        "report",
        "per-arm figures and per-trial speed-ups from a cluster, kubectl dumps or a results folder",
        "Per-arm pod figures and the per-trial speed-up, with what was and was not verified.",
        REPORT_EXAMPLES,
    )
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
    src.add_argument("--exclude-flagged", action="store_true", help="with --results: leave out flagged trials")
    out = r.add_argument_group("output")
    out.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="FILE",
        help="the streaming-ab/timing-report@2 JSON document, to FILE or (no FILE) to stdout",
    )
    out.add_argument("--csv", metavar="FILE", help="one row per arm, ms-rounded, to FILE")
    out.add_argument(
        "--plot", metavar="FILE", help=f"per-pod waterfall, both arms per trial ({', '.join(PLOT_FORMATS)})"
    )
    out.add_argument("--reference", action="store_true", help="the seeds' published figures beside the same metric")
    out.add_argument(
        "--image-info",
        metavar="FILE",
        help='JSON {"<image ref>": {"layers": N, "size_bytes": N}} for sizes/layers events do not carry',
    )

    m = command(
        "measure",
        "run N cold-start trials of the experiment's workloads",
        "Repeated trials: reset caches, check the nodes, roll out both arms, snapshot, verify.",
        MEASURE_EXAMPLES,
    )
    m.add_argument("--trials", type=_positive(int), default=5, metavar="N", help="number of trials (default 5)")
    mode = m.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        "--reset",
        choices=("recycle", "purge"),
        help="recycle: bump cacheGeneration and 'pulumi up' (fresh nodes); purge: a privileged DaemonSet removes the images",
    )
    mode.add_argument("--warm", action="store_true", help="no reset: measure warm restarts on purpose (seed 004)")
    m.add_argument(
        "--workload", action="append", metavar="NAME", help="only this workload; repeatable (default: all found)"
    )
    m.add_argument(
        "--timeout", type=_positive(float), default=600.0, metavar="SECONDS", help="per-phase wait limit (default 600)"
    )
    m.add_argument(
        "--results", default="results", metavar="DIR", help="folder the trials accumulate in (default ./results)"
    )
    m.add_argument(
        "--replicas", type=_positive(int), metavar="N", help="replicas per Deployment when one is found scaled to 0"
    )
    m.add_argument(
        "--purge-image",
        default=None,
        metavar="IMAGE@sha256:...",
        help="purge DaemonSet image, pinned by digest (default with --stack: the registry's busybox)",
    )
    m.add_argument("--poll", type=_positive(float), default=2.0, metavar="SECONDS", help="polling interval (default 2)")
    m.add_argument("--seed", type=int, default=None, metavar="N", help="seed of the random round and scale-up order")
    return parser


# --- report ----------------------------------------------------------------------------------------
def _check_report_args(args) -> None:
    offline = bool(args.pods or args.events or args.results)
    live = [
        flag
        for flag, value in (("--stack", args.stack), ("--kubeconfig", args.kubeconfig), ("--context", args.context))
        if value
    ]
    if offline and live:
        raise UsageError(
            f"{', '.join(live)} read a cluster, --pods/--events/--results read files: give one or the other"
        )
    if args.exclude_flagged and not args.results:
        raise UsageError("--exclude-flagged leaves out flagged trials of a results folder: it needs --results DIR")
    if args.events and not args.pods:
        raise UsageError("--events needs --pods: events alone do not say which arm a pod is in")
    for flag, target in (
        ("--csv", args.csv),
        ("--plot", args.plot),
        ("--json", args.json if args.json != "-" else None),
    ):
        if target:
            folder = Path(target).expanduser().resolve().parent
            if not folder.is_dir():
                raise UsageError(f"{flag} {target}: the folder {folder} does not exist")
    if args.plot:
        suffix = Path(args.plot).suffix.lower().lstrip(".")
        if suffix not in PLOT_FORMATS:
            raise UsageError(
                f"--plot {args.plot}: unsupported picture format {suffix or '(none)'!r}; allowed: {', '.join(PLOT_FORMATS)}"
            )
    if args.kubeconfig and not Path(args.kubeconfig).expanduser().is_file():
        raise UsageError(f"--kubeconfig {args.kubeconfig}: no such file")


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


def api_client_or_error(args):
    from timing.sources.inputs import api_client

    try:
        return api_client(args.kubeconfig, args.context, args.stack)
    except TimingError:
        raise
    except FileNotFoundError as error:
        if "pulumi" in str(error):
            raise TimingError("--stack needs the Pulumi CLI on PATH (https://www.pulumi.com/docs/install/)") from None
        raise UsageError(
            "no kubeconfig: give --stack NAME, --kubeconfig PATH or set KUBECONFIG (or read dumps with --pods/--events)"
        ) from None
    except Exception as error:  # noqa: BLE001 - kubeconfig and Pulumi errors come in many types
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if "Invalid kube-config" in text or "kube-config" in text or "kubeconfig" in text.lower():
            raise UsageError(
                f"no usable kubeconfig ({text}): give --stack NAME, --kubeconfig PATH or set KUBECONFIG"
            ) from None
        if "passphrase" in text.lower():
            raise UsageError(
                f"--stack {args.stack}: the stack's secrets need PULUMI_CONFIG_PASSPHRASE (or _FILE) ({text})"
            ) from None
        raise TimingError(f"cannot reach the cluster: {text}") from None


def _load(args):
    from timing.sources.inputs import Loaded, load_dumps, load_live, load_results

    loaded = Loaded()
    offline = bool(args.pods or args.events or args.results)
    if args.pods:
        load_dumps(args.pods, args.events, args.namespace, args.selector, into=loaded)
    if args.results:
        load_results(args.results, args.namespace, args.selector, args.exclude_flagged, into=loaded)
    if not offline:
        client = api_client_or_error(args)
        pool_streaming, artifacts = _stack_evidence(args.stack) if args.stack else ({}, {})
        try:
            load_live(
                client,
                args.namespace,
                args.selector,
                into=loaded,
                pool_streaming=pool_streaming,
                streaming_artifacts=artifacts,
            )
        except TimingError:
            raise
        except Exception as error:  # noqa: BLE001 - API errors (403, connection refused ...) in many types
            raise TimingError(f"reading the cluster failed: {_first_line(error)}") from error
    _say_why_empty(args, loaded, offline)
    return loaded


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _say_why_empty(args, loaded, offline: bool) -> None:
    """No pod to report: say which of the possible causes it is, never just "nothing"."""
    if loaded.pods or (loaded.trials and args.exclude_flagged):
        return
    where = (
        ", ".join(args.pods + args.results)
        if offline
        else f"namespace(s) {', '.join(args.namespace or [DEFAULT_NAMESPACE])}"
    )
    if loaded.seen_pods == 0:
        raise UsageError(
            f"{where}: no pods in it" + ("" if offline else " (is the stack deployed, the namespace right?)")
        )
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


def _stack_evidence(stack: str) -> tuple[dict, dict]:
    """The pools' streaming flag read back from ARM now, and the images' artifacts as the stack recorded them.

    The outputs are read once per run (`_stack_outputs` is cached); the ARM flags on every call.
    """
    from timing.sources.azure import read_pool_streaming, streaming_artifacts_from_outputs

    outputs = _stack_outputs(stack)
    pools = list((outputs.get("pools") or {}).keys())
    pool_streaming: dict = {}
    if outputs.get("clusterId") and pools:
        try:
            pool_streaming = read_pool_streaming(outputs["clusterId"], pools)
        except Exception as exc:  # noqa: BLE001 - credential errors come in many types; the flag stays unknown
            print(
                f"note: pool flags not read back from ARM ({_first_line(exc)}); streaming stays unverified",
                file=sys.stderr,
            )
    return pool_streaming, streaming_artifacts_from_outputs(outputs.get("images"))


@functools.cache
def _stack_outputs(stack: str) -> dict:
    from timing.sources.inputs import stack_outputs

    try:
        return {k: v.value for k, v in stack_outputs(stack).items()}
    except FileNotFoundError:
        raise TimingError("--stack needs the Pulumi CLI on PATH (https://www.pulumi.com/docs/install/)") from None
    except Exception as error:  # noqa: BLE001 - the Automation API raises CommandError with the CLI's text
        raise TimingError(f"--stack {stack}: reading its outputs failed: {_first_line(error)}") from error


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


def _wrote(path: str, what: str) -> None:
    print(f"wrote {path} ({what})", file=sys.stderr)


def cmd_report(args) -> int:
    from timing.analysis.report import build_report

    _check_report_args(args)
    image_info = _image_info(args.image_info)
    offline = bool(args.pods or args.events or args.results)
    if args.reference and not offline and not (args.stack or args.kubeconfig or args.context):
        report = None  # reference figures alone need no cluster
    else:
        with _no_cyclic_gc():
            loaded = _load(args)
            report = build_report(
                loaded.pods,
                loaded.events,
                image_info=image_info,
                trials=loaded.trials,
                evidence=loaded.evidence,
                events_given=loaded.events_given,
            )
            del loaded
    _write_files(args, report)
    if args.json == "-":
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
    from timing.rendering.table import console_for, print_report, reference_table

    console = console_for(sys.stdout)
    if report is None:
        console.print(reference_table(None))
    else:
        print_report(report, console, reference=args.reference)
    return ExitStatus.OK


def _write_files(args, report: dict | None) -> None:
    try:
        if report is not None and args.csv:
            from timing.rendering.table import write_csv

            rows = write_csv(report, args.csv)
            _wrote(args.csv, f"{rows} row(s), one per arm and baseline")
        if report is not None and args.plot:
            from timing.rendering.plot import write_plot

            panels = write_plot(report, args.plot)
            _wrote(args.plot, f"waterfall, {panels} trial panel(s)")
        if args.json and args.json != "-":
            import orjson

            doc = report if report is not None else {}
            if args.reference:
                from timing.rendering.reference import reference_rows

                doc = dict(doc, reference=reference_rows())
            Path(args.json).write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
            _wrote(args.json, f"{len(doc.get('pods', []))} pods, {len(doc.get('comparisons', []))} comparisons")
    except OSError as error:
        raise TimingError(f"writing {error.filename}: {error.strerror}") from None


# --- measure ---------------------------------------------------------------------------------------
def _purge_image(args) -> str:
    """The purge image pinned by digest: given, or the stack registry's own busybox."""
    if args.purge_image:
        if "@sha256:" not in args.purge_image:
            raise UsageError(
                f"--purge-image {args.purge_image}: give it by digest (IMAGE@sha256:...): a privileged pod on every "
                "experiment node must run exactly the image that was reviewed"
            )
        return args.purge_image
    if not args.stack:
        raise UsageError("--reset purge needs --stack NAME (its registry's busybox) or --purge-image IMAGE@sha256:...")
    images = _stack_outputs(args.stack).get("images") or {}
    busybox = images.get("busybox") or {}
    if not busybox.get("ref") or not busybox.get("digest"):
        raise UsageError(
            f"--stack {args.stack} exports no busybox image (images.busybox) to purge with; add it to the stack's "
            "images or give --purge-image IMAGE@sha256:..."
        )
    return f"{busybox['ref'].rsplit(':', 1)[0]}@{busybox['digest']}"


def cmd_measure(args) -> int:
    from rich.console import Console

    from timing.measure.discovery import TrialError, discover, plan_rounds
    from timing.measure.progress import RichProgress
    from timing.measure.resets import NoReset, PurgeReset, RecycleReset
    from timing.measure.runner import Runner
    from timing.sources.cluster import KubeCluster, PulumiStack, SystemClock

    console = Console(stderr=True)
    if args.reset == "recycle" and not args.stack:
        raise UsageError(
            "--reset recycle needs --stack NAME (it changes the stack's cacheGeneration and runs pulumi up)"
        )
    purge_image = _purge_image(args) if args.reset == "purge" else None
    if args.kubeconfig and not Path(args.kubeconfig).expanduser().is_file():
        raise UsageError(f"--kubeconfig {args.kubeconfig}: no such file")
    clock = SystemClock()
    cluster = KubeCluster(api_client_or_error(args))
    namespaces = args.namespace or [DEFAULT_NAMESPACE]
    resetter: NoReset | RecycleReset | PurgeReset
    if args.warm:
        resetter, mode = NoReset(), "warm"
    elif args.reset == "recycle":
        try:
            stack = PulumiStack(args.stack)
        except FileNotFoundError:
            raise TimingError(
                "--reset recycle needs the Pulumi CLI on PATH (https://www.pulumi.com/docs/install/)"
            ) from None
        resetter, mode = (
            RecycleReset(
                stack, cluster, clock, args.timeout, args.poll, on_output=lambda line: console.log(line.rstrip())
            ),
            "cold",
        )
    else:
        resetter, mode = PurgeReset(cluster, clock, args.timeout, args.poll, image=purge_image), "cold"
    try:
        workloads = discover(cluster, namespaces, args.selector, args.workload, args.replicas)
    except TrialError as exc:
        raise UsageError(str(exc)) from None
    for r in plan_rounds(workloads):
        for note in r["notes"]:
            console.print(f"[yellow]note:[/yellow] {note}")
    evidence_reader = None
    if args.stack:
        stack_name = args.stack

        def evidence_reader(pools: list[str]) -> tuple[dict, dict]:
            return _stack_evidence(stack_name)

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
    except KeyboardInterrupt:
        kept = len(runner.taken)
        console.print(
            f"interrupted: {kept} trial(s) kept in {args.results}; the Deployments were scaled back up "
            "and the purge DaemonSet removed"
        )
        return ExitStatus.INTERRUPTED
    except TrialError as exc:
        raise TimingError(f"stopped: {exc}") from None
    flagged = [m for m in manifests if m["flagged"]]
    unexpected = [m for m in manifests if m.get("unexpected")]
    console.print(f"{len(manifests)} trial(s) written to {args.results}; {len(flagged)} flagged (seed {runner.seed}).")
    for m in flagged:
        console.print(f"  [yellow]{m['id']}[/yellow] #{m['index']} {m['verdict']}: {'; '.join(m['reasons'])}")
    console.print(f"analyse with: {PROG} report --results {args.results}")
    # The first trial is flagged on purpose (registry warming), which is no failure of the run.
    return ExitStatus.OK if not unexpected else ExitStatus.FLAGGED


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
        if extra:
            # Said by the command that was given, not by the top-level parser.
            parser.commands[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
        return cmd_report(args) if args.command == "report" else cmd_measure(args)
    except TimingError as error:
        if debug:
            traceback.print_exc()
        print(f"timing: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("timing: interrupted", file=sys.stderr)
        return ExitStatus.INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the last line of defence: one line, the traceback on --debug
        if debug:
            traceback.print_exc()
        print(
            f"timing: error: {type(error).__name__}: {_first_line(error)} (run with --debug for the traceback)",
            file=sys.stderr,
        )
        return ExitStatus.FAILURE
