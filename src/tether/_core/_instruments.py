"""Instrument dispatch: one list per hook, so an unused hook costs one truth test."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._abc import Instrument

if TYPE_CHECKING:
    from collections.abc import Iterable

HOOKS = (
    "before_run",
    "after_run",
    "task_spawned",
    "task_scheduled",
    "before_task_step",
    "after_task_step",
    "task_exited",
    "before_io_wait",
    "after_io_wait",
)

LOGGER_NAME = "tether.abc.Instrument"


class Instruments:
    """The instruments of one run, grouped by the hooks they override."""

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self.all: list[Instrument] = []
        self.by_hook: dict[str, list[Instrument]] = {hook: [] for hook in HOOKS}
        for instrument in instruments:
            self.add(instrument)

    def add(self, instrument: Instrument) -> None:
        if not isinstance(instrument, Instrument):
            raise TypeError(
                f"instruments must be tether.abc.Instrument instances, not {instrument!r}"
            )
        if instrument in self.all:
            return
        self.all.append(instrument)
        for hook in HOOKS:
            if getattr(type(instrument), hook) is not getattr(Instrument, hook):
                self.by_hook[hook].append(instrument)

    def remove(self, instrument: Instrument) -> None:
        if instrument not in self.all:
            raise KeyError(f"instrument {instrument!r} is not installed")
        self.all.remove(instrument)
        for users in self.by_hook.values():
            if instrument in users:
                users.remove(instrument)

    def call(self, hook: str, *args: Any) -> None:
        for instrument in list(self.by_hook[hook]):
            try:
                getattr(instrument, hook)(*args)
            except BaseException:
                self.remove(instrument)
                import logging  # only on this error path: keeps `import tether` fast

                logging.getLogger(LOGGER_NAME).exception(
                    "instrument %r raised in %s and was removed", instrument, hook
                )
