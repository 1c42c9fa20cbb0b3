"""Crash-safe journal of committed batches for a generation in progress.

HDF5 does not survive being killed mid-write: a SIGKILL while the library holds the
file open can leave object headers half-written and the whole file unreadable
(observed here with h5py 3.16 / HDF5 2.0). So a generation writes each batch as its
own small `.npz` file next to the output, `OUT.partial/batch-START-STOP.npz`, made
atomic by writing a temporary file and `os.replace`-ing it into place: a batch file
exists completely or not at all. When every sample is in, the journal is assembled
into the HDF5 file (itself written to a temporary name and renamed), and removed.
A killed run therefore loses at most the batch in flight, and rerunning the same
command resumes after the last committed batch.
"""

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np

_REDRAWN = "_num_redrawn"  # stored inside each batch file, so it commits atomically
_BATCH = re.compile(r"batch-(\d{10})-(\d{10})\.npz$")


def journal_dir(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.name + ".partial")


class Journal:
    def __init__(self, folder: Path, identity: dict):
        self.folder = folder
        self.identity = identity

    @classmethod
    def open(cls, out: str | Path, identity: dict) -> "Journal":
        """Open the journal of `out`, creating it if absent. Returns it with the
        identity it was created with (the caller compares it with its own)."""
        folder = journal_dir(out)
        ident_path = folder / "identity.json"
        if ident_path.exists():
            return cls(folder, json.loads(ident_path.read_text()))
        folder.mkdir(parents=True, exist_ok=True)
        _atomic_write_bytes(ident_path, json.dumps(identity).encode())
        return cls(folder, identity)

    def batches(self) -> list[tuple[int, int, Path]]:
        """Committed batches `(start, stop, path)` in order, checked to be contiguous
        from 0 (so nothing is lost or duplicated)."""
        found = []
        for p in self.folder.iterdir():
            m = _BATCH.match(p.name)
            if m:
                found.append((int(m.group(1)), int(m.group(2)), p))
        found.sort()
        expected = 0
        for start, stop, p in found:
            if start != expected or stop <= start:
                raise ValueError(
                    f"journal {self.folder} is inconsistent at {p.name} (expected a "
                    f"batch starting at {expected}); delete the folder to start over."
                )
            expected = stop
        return found

    @property
    def n_complete(self) -> int:
        batches = self.batches()
        return batches[-1][1] if batches else 0

    @property
    def num_redrawn(self) -> int:
        total = 0
        for _, _, p in self.batches():
            with np.load(p) as z:
                total += int(z[_REDRAWN])
        return total

    def commit(self, start: int, arrays: dict[str, np.ndarray], redrawn: int) -> None:
        stop = start + len(next(iter(arrays.values())))
        if start != self.n_complete:
            raise ValueError(
                f"batch starts at {start}, journal holds {self.n_complete}."
            )
        tmp = self.folder / f"batch-{start:010d}-{stop:010d}.tmp.npz"
        with open(tmp, "wb") as f:
            np.savez(f, **arrays, **{_REDRAWN: np.asarray(redrawn)})
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.folder / f"batch-{start:010d}-{stop:010d}.npz")

    def iter_batches(self):
        """Committed batches as dicts of arrays, in order, one at a time."""
        for _, _, p in self.batches():
            with np.load(p) as z:
                yield {k: z[k] for k in z.files if k != _REDRAWN}

    def load(self) -> dict[str, np.ndarray]:
        parts = list(self.iter_batches())
        if not parts:
            return {}
        return {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}

    def remove(self) -> None:
        shutil.rmtree(self.folder)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
