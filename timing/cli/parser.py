"""The command line's definition: every flag of `report` and `measure`, its help and its examples."""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

from contract import DEFAULT_NAMESPACE, NAMESPACE_NAME_PATTERN
from timing.errors import UsageError

MODULE_PROG = "python -m timing"
PLOT_FORMATS = ("png", "pdf", "svg")

REPORT_EXAMPLES = """{title}:
  {prog} report --stack dev                                    every arm, live (needs PULUMI_CONFIG_PASSPHRASE)
  {prog} report --results results --plot waterfall.png         what measure wrote, with a picture
  {prog} report --pods pods.json --events events.json --json report.json
  {prog} report --pods pods.json --events events.json --nodes nodes.json   with node facts and labels
  {prog} report --reference                                    the seeds' figures alone
  {prog} report --results results --html report.html --markdown summary.md   pages to hand on
  {prog} report --results results --fail-below 2 --require-verified          a CI gate: exit 3 when it fails
"""
COMPARE_EXAMPLES = """{title}:
  {prog} compare before.json after.json                        two reports written with report --json FILE
  {prog} compare results-v1 results-v2 --json                  two results folders, as JSON
"""
MEASURE_EXAMPLES = """{title}:
  {prog} measure --stack dev --reset purge --trials 10         purge node caches between trials
  {prog} measure --stack dev --reset recycle --trials 5        fresh nodes every trial (pulumi up)
  {prog} measure --stack dev --warm --trials 3                 warm restarts on purpose (seed 004)
  {prog} measure --stack dev --reset purge --trials auto --precision 10% --max-trials 15
"""


# argparse takes only -1 and -1.5 for values: '-inf', '-1e3' or '-10%' would be read as flags ("expected one
# argument"). Every negative number is a value here, so the flag's own check refuses it; no flag looks like one.
NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*(e[-+]?\d+)?|\.\d+(e[-+]?\d+)?|inf(inity)?|nan)%?$", re.IGNORECASE)
# Any other --namespace (an empty one) would match no pod.
NAMESPACE_NAME = re.compile(NAMESPACE_NAME_PATTERN)


class Parser(argparse.ArgumentParser):
    """argparse whose mistakes are one line naming the command, never a usage dump."""

    commands: dict[str, argparse.ArgumentParser]  # name -> its parser, to report its own mistakes

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = NEGATIVE_NUMBER

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}; see {self.prog} --help")


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or value <= 0:  # nan compares false with everything: a gate that never fails
            raise argparse.ArgumentTypeError(f"{text} must be a finite number greater than 0")
        return value

    return parse


def _namespace(text: str) -> str:
    if not NAMESPACE_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a namespace name; allowed: an RFC 1123 label (1-63 of a-z, 0-9 and '-', "
            "starting and ending with a letter or digit); repeat the flag for several"
        )
    return text


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
        type=_namespace,
        metavar="NS",
        help=f"namespace; repeatable (default: every namespace for dumps, {DEFAULT_NAMESPACE} for live reads)",
    )
    p.add_argument("--selector", "-l", metavar="SEL", help="label selector (k=v, k!=v, k, !k, k in (a,b), comma = AND)")
    p.add_argument("--debug", action="store_true", help="show the traceback of an error")


def _add_report_args(r: argparse.ArgumentParser) -> None:
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
        "--nodes",
        action="append",
        default=[],
        metavar="FILE",
        help="kubectl get nodes -o json output: node labels and facts (image, kubelet, VM size, zone); repeatable",
    )
    src.add_argument(
        "--include-flagged",
        action="store_true",
        help="put flagged trials (warm-up, contradicted, protocol flags ...) back into the speed-ups",
    )
    # Flagged trials are out by default now: the old flag is refused with a line saying so.
    src.add_argument("--exclude-flagged", action="store_true", help=argparse.SUPPRESS)
    out = r.add_argument_group("output")
    out.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="FILE",
        help="the streaming-ab/timing-report@3 JSON document, to FILE or (no FILE) to stdout",
    )
    out.add_argument(
        "--csv", metavar="FILE", help="one row per arm, then one per arm and trial (column row), ms-rounded, to FILE"
    )
    out.add_argument("--html", metavar="FILE", help="one self-contained page to hand on (no external resource)")
    out.add_argument("--markdown", metavar="FILE", help="the headlines as Markdown, e.g. for a CI job summary")
    out.add_argument(
        "--plot",
        metavar="FILE",
        help=f"forest plot of every speed-up above the waterfall, both arms per trial ({', '.join(PLOT_FORMATS)})",
    )
    out.add_argument(
        "--crossover-plot",
        metavar="FILE",
        help=f"speed-up against the swept factor, with the 1x and physical-limit lines ({', '.join(PLOT_FORMATS)})",
    )
    out.add_argument("--reference", action="store_true", help="the seeds' published figures beside the same metric")
    out.add_argument(
        "--image-info",
        metavar="FILE",
        help='JSON {"<image ref>": {"layers": N, "size_bytes": N}} for sizes/layers events do not carry',
    )
    gate = r.add_argument_group("CI gates (exit 3 when one fails; the outputs are written first)")
    gate.add_argument(
        "--fail-below",
        type=_positive(float),
        metavar="X",
        help="fail when a counted, verified speed-up's 95%% lower bound is below X (or none can be held to it)",
    )
    gate.add_argument("--require-verified", action="store_true", help="fail when any headline is not verified")


def _add_compare_args(c: argparse.ArgumentParser) -> None:
    for name, which in (("a", "first"), ("b", "second")):
        c.add_argument(name, metavar=name.upper(), help=f"the {which} run: a results folder or a report --json file")
    c.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="FILE",
        help="the streaming-ab/timing-compare@1 JSON document, to FILE or (no FILE) to stdout",
    )
    c.add_argument("--debug", action="store_true", help="show the traceback of an error")


def _trials(text: str):
    return "auto" if text == "auto" else _positive(int)(text)


def _percent(text: str) -> float:
    """``10%`` or ``0.1`` -> 0.1."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage (like 10%)") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be between 0% and 100%")
    return value


def _add_measure_args(m: argparse.ArgumentParser) -> None:
    m.add_argument(
        "--trials",
        type=_trials,
        default=5,
        metavar="N|auto",
        help="number of trials (default 5); auto: a pilot of 3, then as many as --precision needs",
    )
    m.add_argument(
        "--precision",
        type=_percent,
        default=None,
        metavar="P%",
        help="with --trials auto: aim at a 95%% interval within about ±P%% of the speed-up (default 10%%)",
    )
    m.add_argument(
        "--max-trials", type=_positive(int), default=20, metavar="N", help="with --trials auto: at most N (default 20)"
    )
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


def invoked_as(argv0: str) -> str:
    """The command as the user typed it: the console script's name, or ``python -m timing`` for the module."""
    name = Path(argv0).name
    return MODULE_PROG if name in ("", "-c", "__main__.py") else name


def message_name(argv0: str | None = None) -> str:
    """The name every error, note and gate line begins with: the console script's, ``timing`` for the module."""
    prog = invoked_as(sys.argv[0] if argv0 is None else argv0)
    return "timing" if prog == MODULE_PROG else prog


def build_parser(prog: str | None = None) -> Parser:
    prog = prog or invoked_as(sys.argv[0])
    blocks = {"report": REPORT_EXAMPLES, "compare": COMPARE_EXAMPLES, "measure": MEASURE_EXAMPLES}
    # A command's own help says "examples:"; the top-level help, holding all three, names each block's command.
    report_examples, compare_examples, measure_examples = (
        text.format(prog=prog, title="examples") for text in blocks.values()
    )
    parser = Parser(
        prog=prog,
        description="Pod start-up timing of the artifact-streaming A/B experiment (docs/timing.md defines every figure).",
        epilog="\n".join(text.format(prog=prog, title=f"{name} examples") for name, text in blocks.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    parser.commands = {}

    def command(
        name: str, summary: str, description: str, examples: str, cluster: bool = True
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=summary,
            description=description,
            epilog=examples,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.commands[name] = p
        if cluster:
            _add_cluster_args(p)
        return p

    _add_report_args(
        command(
            "report",
            "per-arm figures and per-trial speed-ups from a cluster, kubectl dumps or a results folder",
            "Per-arm pod figures and the per-trial speed-up, with what was and was not verified. Exit status: "
            "0 done, 3 a CI gate failed (--fail-below, --require-verified), 2 a usage mistake, 1 a failure.",
            report_examples,
        )
    )
    _add_compare_args(
        command(
            "compare",
            "two runs side by side: the ratio of their speed-ups, with an interval",
            "Per comparison present in both runs: speed-up of B / speed-up of A, its Welch 95% interval over the "
            "per-trial log ratios, and whether the runs differ (docs/timing.md). Exit status: 0 done, 2 a usage "
            "mistake (a run that cannot be read), 1 a failure.",
            compare_examples,
            cluster=False,
        )
    )
    _add_measure_args(
        command(
            "measure",
            "run N cold-start trials of the experiment's workloads",
            "Repeated trials: reset caches, check the nodes, roll out both arms, snapshot, verify.",
            measure_examples,
        )
    )
    return parser
