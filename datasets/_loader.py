"""An in-RAM NumPy loader of fixed-shape random crops, sharded by process.

For datasets of the paper's size (10^4 trajectories of 140 x 256 floats, ~1.4 GB in
float32) holding the field in memory and slicing NumPy arrays is simpler and faster
than a streaming pipeline (FIELD-NOTES: 10x faster than grain at these sizes).
"""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import xarray as xr

from ._store import FIELD, open_dataset


class CropLoader:
    """Batches of random space-time crops of trajectories.

    Epoch `e` visits a permutation of the samples drawn from `(seed, e)`; global batch
    `g` is `process_count * batch_size` consecutive samples of it, of which process `p`
    takes the `p`-th slice. Each sample's crop offset is drawn from
    `(seed, e, sample index)`, so the union of all processes' batches is the same for any
    number of processes, and every batch is deterministic. Space is periodic: crops wrap
    around. Incomplete final global batches are dropped (fixed shapes for `jit`).

    **Arguments:**

    - `source`: a dataset file path or an `xarray.Dataset` from `open_dataset`.
    - `batch_size`: samples per batch *per process*.
    - `crop_time`, `crop_space`: crop size (frames, points); `crop_space=None` keeps the
      whole periodic domain (no spatial crop).
    - `variables`: per-sample variables to return with each batch (e.g. `("nu",)`);
      `t0` (of the crop), `dt`, `dx` and `index` are always returned.
    """

    def __init__(
        self,
        source: str | Path | xr.Dataset,
        *,
        batch_size: int,
        crop_time: int,
        crop_space: int | None = None,
        seed: int = 0,
        process_index: int = 0,
        process_count: int = 1,
        variables: tuple[str, ...] = (),
    ):
        ds = source if isinstance(source, xr.Dataset) else open_dataset(source)
        self.u = np.asarray(ds[FIELD].values, dtype=np.float32)
        if self.u.ndim != 3:
            raise ValueError(
                f"CropLoader handles (sample, time, x) fields; got dims {ds[FIELD].dims}."
            )
        missing = [v for v in variables if v not in ds]
        if missing:
            raise ValueError(
                f"variables {missing} are not in the dataset; it has "
                f"{sorted(str(v) for v in ds.data_vars)}."
            )
        self.per_sample = {
            name: np.asarray(ds[name].values)
            for name in ("t0", "dt", "dx", "index", *variables)
        }
        n, nt, nx = self.u.shape
        crop_space = nx if crop_space is None else crop_space
        if not 1 <= crop_time <= nt:
            raise ValueError(f"crop_time must be in [1, {nt}], got {crop_time}.")
        if not 1 <= crop_space <= nx:
            raise ValueError(f"crop_space must be in [1, {nx}], got {crop_space}.")
        if not 0 <= process_index < process_count:
            raise ValueError(
                f"need 0 <= process_index < process_count, got {process_index}, "
                f"{process_count}."
            )
        if batch_size < 1 or batch_size * process_count > n:
            raise ValueError(
                f"a global batch of {batch_size} x {process_count} processes needs at "
                f"least that many samples; the dataset has {n}."
            )
        self.batch_size = batch_size
        self.crop_time = crop_time
        self.crop_space = crop_space
        self.seed = seed
        self.process_index = process_index
        self.process_count = process_count

    def __len__(self) -> int:
        """Batches per epoch (the same on every process)."""
        return len(self.u) // (self.batch_size * self.process_count)

    def _offsets(
        self, epoch: int, indices: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        _, nt, nx = self.u.shape
        starts_t = np.empty(len(indices), dtype=np.int64)
        starts_x = np.empty(len(indices), dtype=np.int64)
        for j, i in enumerate(indices):
            rng = np.random.default_rng([self.seed, epoch, int(i), 1])
            starts_t[j] = rng.integers(0, nt - self.crop_time + 1)
            starts_x[j] = rng.integers(0, nx) if self.crop_space < nx else 0
        return starts_t, starts_x

    def epoch(self, epoch: int) -> Iterator[dict[str, np.ndarray]]:
        perm = np.random.default_rng([self.seed, epoch, 0]).permutation(len(self.u))
        global_batch = self.batch_size * self.process_count
        nx = self.u.shape[2]
        for g in range(len(self)):
            chunk = perm[g * global_batch : (g + 1) * global_batch]
            mine = chunk[
                self.process_index * self.batch_size : (self.process_index + 1)
                * self.batch_size
            ]
            st, sx = self._offsets(epoch, mine)
            t_idx = st[:, None] + np.arange(self.crop_time)[None, :]
            x_idx = (sx[:, None] + np.arange(self.crop_space)[None, :]) % nx
            u = self.u[mine[:, None, None], t_idx[:, :, None], x_idx[:, None, :]]
            batch = {FIELD: u}
            for name, values in self.per_sample.items():
                batch[name] = values[mine]
            batch["t0"] = self.per_sample["t0"][mine] + st * self.per_sample["dt"][mine]
            yield batch
