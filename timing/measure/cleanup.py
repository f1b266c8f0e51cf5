"""Removing a DaemonSet ``measure`` created (purge, probe): retried, and never hiding the error that came first."""

from __future__ import annotations

from timing.measure.discovery import ResetError
from timing.sources.cluster import Clock, Cluster

DELETE_ATTEMPTS = 4
DELETE_BACKOFF_SECONDS = 2.0


def delete_daemonset(
    cluster: Cluster, clock: Clock, namespace: str, name: str, failure: BaseException | None, what: str
) -> None:
    """Delete it, retrying; if ``failure`` is set, a failed deletion is added to it instead of raised."""
    last: Exception | None = None
    for attempt in range(DELETE_ATTEMPTS):
        try:
            cluster.delete_daemonset(namespace, name)
            return
        except Exception as error:  # noqa: BLE001 - any API error: try again, then report
            last = error
            if attempt + 1 < DELETE_ATTEMPTS:
                clock.sleep(DELETE_BACKOFF_SECONDS * 2**attempt)
    advice = f"delete it by hand: kubectl --namespace {namespace} delete daemonset {name}"
    if failure is not None:
        # The first error stays the one raised; the leftover is said in the same line.
        extra = f"; and the {what} DaemonSet could not be deleted ({last}): {advice}"
        if isinstance(failure, Exception) and failure.args and isinstance(failure.args[0], str):
            failure.args = (failure.args[0] + extra, *failure.args[1:])
        else:
            failure.add_note(extra.lstrip("; "))
        return
    raise ResetError(
        f"the {what} DaemonSet {name} could not be deleted after {DELETE_ATTEMPTS} tries ({last}); {advice}"
    )
