"""`measure`: check the flags, choose the reset, discover the arms, run the trials, say what was written."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from contract import DEFAULT_NAMESPACE
from timing.cli.access import check_kubeconfig, connect
from timing.cli.parser import invoked_as
from timing.errors import ExitStatus, TimingError, UsageError
from timing.sources.stack import PULUMI_MISSING

if TYPE_CHECKING:
    from timing.measure.resets import Resetter


def _purge_image(args) -> str:
    """The purge image pinned by digest: given, or the stack registry's own busybox."""
    from timing.sources.stack import stack_outputs

    if args.purge_image:
        if "@sha256:" not in args.purge_image:
            raise UsageError(
                f"--purge-image {args.purge_image}: give it by digest (IMAGE@sha256:...): a privileged pod on every "
                "experiment node must run exactly the image that was reviewed"
            )
        return args.purge_image
    if not args.stack:
        raise UsageError("--reset purge needs --stack NAME (its registry's busybox) or --purge-image IMAGE@sha256:...")
    images = stack_outputs(args.stack).get("images") or {}
    busybox = images.get("busybox") or {}
    if not busybox.get("ref") or not busybox.get("digest"):
        raise UsageError(
            f"--stack {args.stack} exports no busybox image (images.busybox) to purge with; add it to the stack's "
            "images or give --purge-image IMAGE@sha256:..."
        )
    return f"{busybox['ref'].rsplit(':', 1)[0]}@{busybox['digest']}"


def _resetter(args, cluster, clock, purge_image: str | None, console) -> tuple[Resetter, bool]:
    """The reset the flags chose, and whether the trials are warm on purpose."""
    from timing.measure.resets import NoReset, PurgeReset, RecycleReset

    if args.warm:
        return NoReset(), True
    if args.reset == "recycle":
        from timing.sources.stack import PulumiStack

        try:
            stack = PulumiStack(args.stack)
        except FileNotFoundError:
            raise TimingError(f"--reset recycle {PULUMI_MISSING}") from None
        recycle = RecycleReset(
            stack, cluster, clock, args.timeout, args.poll, on_output=lambda line: console.log(line.rstrip())
        )
        return recycle, False
    return PurgeReset(cluster, clock, args.timeout, args.poll, image=purge_image), False


def _prober(args, cluster, clock, purge_image: str | None, console):
    """The node probe, run with the purge image (the same reviewed digest); none without one."""
    from timing.measure.prober import NodeProber

    image, why = purge_image, "it needs --stack or --purge-image IMAGE@sha256:..."
    if image is None and (args.purge_image or args.stack):
        try:
            image = _purge_image(args)
        except UsageError as error:
            if args.purge_image:
                raise
            why = str(error)  # a stack without busybox: measure still runs, without node evidence
    if image is None:
        console.print(
            f"[yellow]note:[/yellow] no node probe ({why}): "
            "no pod can be shown by its node to have streamed, so streaming stays unverified"
        )
        return None
    return NodeProber(cluster, clock, image, args.timeout, args.poll)


def _evidence_reader(args):
    """With --stack: the pools' ARM flag and the images' artifacts, read for every trial."""
    if not args.stack:
        return None
    from timing.sources.stack import stack_evidence

    stack_name = args.stack

    def evidence_reader(pools: list[str]) -> tuple[dict, dict]:
        return stack_evidence(stack_name)

    return evidence_reader


def _summary(args, console, manifests: list[dict], seed: int) -> int:
    flagged = [m for m in manifests if m["flagged"]]
    unexpected = [m for m in manifests if m.get("unexpected")]
    console.print(f"{len(manifests)} trial(s) written to {args.results}; {len(flagged)} flagged (seed {seed}).")
    for m in flagged:
        console.print(f"  [yellow]{m['id']}[/yellow] #{m['index']} {m['verdict']}: {'; '.join(m['reasons'])}")
    console.print(f"analyse with: {invoked_as(sys.argv[0])} report --results {args.results}")
    # The first trial is flagged on purpose (registry warming), which is no failure of the run.
    return ExitStatus.OK if not unexpected else ExitStatus.FLAGGED


def _trials_plan(args):
    """The number of trials, or with ``--trials auto`` the pilot-then-extend plan."""
    from timing.measure.auto import PILOT_TRIALS, AutoTrials

    if args.trials != "auto":
        if args.precision is not None:
            raise UsageError("--precision sets the target of --trials auto; give --trials auto or leave it out")
        return args.trials
    if args.max_trials < PILOT_TRIALS:
        raise UsageError(f"--max-trials {args.max_trials}: --trials auto starts with a pilot of {PILOT_TRIALS}")
    return AutoTrials(precision=args.precision or 0.10, max_trials=args.max_trials)


def cmd_measure(args) -> int:
    from rich.console import Console

    from timing.measure.discovery import TrialError, discover, plan_rounds
    from timing.measure.preflight import PullCheckError, check_pull_access
    from timing.measure.progress import RichProgress
    from timing.measure.runner import Runner
    from timing.sources.cluster import SystemClock

    console = Console(stderr=True)
    if args.reset == "recycle" and not args.stack:
        raise UsageError(
            "--reset recycle needs --stack NAME (it changes the stack's cacheGeneration and runs pulumi up)"
        )
    trials = _trials_plan(args)
    purge_image = _purge_image(args) if args.reset == "purge" else None
    check_kubeconfig(args)
    clock = SystemClock()
    cluster = connect(args)
    resetter, warm = _resetter(args, cluster, clock, purge_image, console)
    try:
        workloads = discover(
            cluster, args.namespace or [DEFAULT_NAMESPACE], args.selector, args.workload, args.replicas
        )
    except TrialError as exc:
        raise UsageError(str(exc)) from None
    try:
        check_pull_access(cluster, [a for w in workloads for a in w.arms.values()])
    except PullCheckError as exc:
        raise TimingError(str(exc)) from None
    prober = _prober(args, cluster, clock, purge_image, console)
    for r in plan_rounds(workloads):
        for note in r["notes"]:
            console.print(f"[yellow]note:[/yellow] {note}")
    runner = Runner(
        cluster,
        resetter,
        clock,
        Path(args.results),
        warm=warm,
        timeout=args.timeout,
        poll=args.poll,
        progress=RichProgress(console),
        evidence_reader=_evidence_reader(args),
        seed=args.seed,
        prober=prober,
        say=lambda text: console.print(f"[cyan]trials:[/cyan] {text}", highlight=False),
    )
    try:
        manifests = runner.run(workloads, trials)
    except KeyboardInterrupt:
        console.print(
            f"interrupted: {len(runner.taken)} trial(s) kept in {args.results}; the Deployments were scaled back up "
            "and the purge and probe DaemonSets removed"
        )
        return ExitStatus.INTERRUPTED
    except TrialError as exc:
        raise TimingError(f"stopped: {exc}") from None
    return _summary(args, console, manifests, runner.seed)
