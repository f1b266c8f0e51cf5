"""Progress of a measure run on the terminal (rich), or nothing."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, total: int) -> None: ...

    def update(self, text: str) -> None: ...

    def advance(self) -> None: ...

    def stop(self) -> None: ...


class NullProgress:
    def start(self, total: int) -> None:
        pass

    def update(self, text: str) -> None:
        pass

    def advance(self) -> None:
        pass

    def stop(self) -> None:
        pass


class RichProgress:
    """Progress bar with trial, arm state and elapsed time."""

    def __init__(self, console=None):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._p = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._task = None

    def start(self, total: int) -> None:
        self._p.start()
        self._task = self._p.add_task("starting", total=total)

    def update(self, text: str) -> None:
        if self._task is not None:
            self._p.update(self._task, description=text)

    def advance(self) -> None:
        if self._task is not None:
            self._p.advance(self._task)

    def stop(self) -> None:
        self._p.stop()
