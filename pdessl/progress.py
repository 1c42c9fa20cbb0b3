"""Progress bars for the training loops, and the one switch that silences them.

Every loop a user waits on (pretraining, the supervised baseline, probe heads,
time-steppers) wraps its steps in `step_bar`: a tqdm bar on stderr with steps/s, the
time left and the latest loss, shown by process 0 only (`jax.process_index() == 0`).
The loop's periodic log lines go through `StepBar.log`, which prints them above the
bar (`tqdm.write`) instead of over it and also hands them to the `logging` logger
`"pdessl"`. `set_quiet(True)` (the command's `--quiet`, or `PDESSL_QUIET=1` in the
environment) turns the bars off and keeps the periodic lines for the logger only;
metrics files are written either way.
"""

import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator

from tqdm.auto import tqdm

logger = logging.getLogger("pdessl")

_quiet = os.environ.get("PDESSL_QUIET", "") == "1"

# The loss shown in the bar is read from the device at most this often: reading it
# waits for the step that made it, which would serialise JAX's asynchronous dispatch
# if done every step.
POSTFIX_INTERVAL_S = 0.5


def set_quiet(quiet: bool) -> None:
    """Turn the progress bars and the periodic log lines off (`True`) or on."""
    global _quiet
    _quiet = bool(quiet)


def is_quiet() -> bool:
    return _quiet


def _lead_process() -> bool:
    import jax

    return jax.process_index() == 0


class StepBar:
    """The bar of one loop (see `step_bar`)."""

    def __init__(self, bar, enabled: bool):
        self._bar = bar
        self.enabled = enabled
        self._last_postfix = -float("inf")

    def update(self, n: int = 1, **postfix) -> None:
        """Count `n` steps; `postfix` values (floats or 0-d JAX arrays, e.g.
        `loss=...`) are shown beside the bar, read at most every
        `POSTFIX_INTERVAL_S`."""
        if not self.enabled:
            return
        now = time.monotonic()
        if postfix and now - self._last_postfix >= POSTFIX_INTERVAL_S:
            self.set_postfix(**postfix)
            self._last_postfix = now
        self._bar.update(n)

    def set_postfix(self, **values) -> None:
        if self.enabled:
            shown = {k: f"{float(v):.4g}" for k, v in values.items()}
            self._bar.set_postfix(shown, refresh=False)

    def close(self) -> None:
        self._bar.close()

    def log(self, line: str, progress: Callable[[str], object] = print) -> None:
        """A periodic log line: to the `"pdessl"` logger, and, unless quiet, to
        `progress` (with `print`, above the bar rather than over it)."""
        logger.info(line)
        if _quiet:
            return
        if progress is print:
            tqdm.write(line, file=sys.stdout)
        else:
            progress(line)


def start_bar(
    total: int,
    *,
    desc: str,
    initial: int = 0,
    leave: bool = False,
    file=None,
    enabled: bool | None = None,
) -> StepBar:
    """A progress bar over `total` steps (starting at `initial`, e.g. after a
    resume), shown on process 0 unless quiet; `enabled` forces it on or off and
    `file` (default stderr) redirects it, for tests. Close it with `close()`, or
    use `step_bar`."""
    if enabled is None:
        enabled = not _quiet and _lead_process()
    bar = tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit="step",
        leave=leave,
        dynamic_ncols=True,
        mininterval=POSTFIX_INTERVAL_S,
        disable=not enabled,
        file=sys.stderr if file is None else file,
    )
    return StepBar(bar, enabled)


@contextlib.contextmanager
def step_bar(
    total: int,
    *,
    desc: str,
    initial: int = 0,
    leave: bool = False,
    file=None,
    enabled: bool | None = None,
) -> Iterator[StepBar]:
    """`start_bar` as a context manager that closes the bar."""
    bar = start_bar(
        total, desc=desc, initial=initial, leave=leave, file=file, enabled=enabled
    )
    try:
        yield bar
    finally:
        bar.close()
