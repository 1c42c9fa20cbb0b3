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
