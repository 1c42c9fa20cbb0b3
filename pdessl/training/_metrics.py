"""The metrics log of a pretraining run, kept to one row per logged step."""

import json
import os
from pathlib import Path

from pdessl.outputs import atomic_output


def keep_metrics_through(path: str | Path, step: int) -> None:
    """Keep only the rows of the JSONL log `path` with `step <= step`.

    A run resumed from the checkpoint at `step` logs the later steps again, so the
    rows written after that checkpoint (and a last line cut off by a kill) go; with
    `step == 0` the log is removed. Rewritten atomically (temporary file, replace).
    """
    path = Path(path)
    if not path.exists():
        return
    if step == 0:
        path.unlink()
        return
    kept = []
    with open(path) as f:
        for line in f:
            try:
                row = json.loads(line)
            except ValueError:  # a line cut short when the run was killed
                continue
            if isinstance(row, dict) and row.get("step", step + 1) <= step:
                kept.append(line.rstrip("\n") + "\n")
    with atomic_output(path) as tmp:
        with open(tmp, "w") as f:
            f.writelines(kept)
            f.flush()
            os.fsync(f.fileno())


class MetricsWriter:
    """Appends one JSON row per logged step to `workdir/metrics.jsonl` (trimmed to
    `start_step` first, see `keep_metrics_through`) and, with `tensorboard`, the same
    scalars to `workdir/tensorboard`. Only the lead process writes (`lead=False`
    makes every call a no-op)."""

    def __init__(self, workdir: Path, start_step: int, *, lead: bool, tensorboard):
        self.path = Path(workdir) / "metrics.jsonl"
        self.lead = lead
        self.scalars = None
        if lead:
            keep_metrics_through(self.path, start_step)
            if tensorboard is not None:
                self.scalars = tensorboard(str(Path(workdir) / "tensorboard"))

    def write(self, metrics: dict, step: int) -> None:
        if not self.lead:
            return
        with open(self.path, "a") as f:
            f.write(json.dumps(metrics) + "\n")
        if self.scalars is not None:
            for name, value in metrics.items():
                self.scalars.add_scalar(name, value, step)

    def close(self) -> None:
        if self.scalars is not None:
            self.scalars.close()


def summary_writer_class(config):
    """tensorboardX's `SummaryWriter` when `tensorboard = true` (an optional
    dependency, checked before any work), else None."""
    if not config.tensorboard:
        return None
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError(
            "tensorboard = true needs tensorboardX: pip install tensorboardX (or "
            "pip install 'pdessl[tensorboard]'), or set tensorboard = false."
        ) from None
    return SummaryWriter
