"""An in-RAM NumPy loader of fixed-shape random crops, sharded by process; 1-D
`(sample, time, x)` and 2-D `(sample, time, x, y)` fields.

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
    around. Incomplete final global batches are dropped (fixed shapes for `jit`). 2-D
    fields get square `crop_space x crop_space` crops.

    **Arguments:**

    - `source`: a dataset file path or an `xarray.Dataset` from `open_dataset`.
    - `batch_size`: samples per batch *per process*.
    - `crop_time`, `crop_space`: crop size (frames, points); `crop_space=None` keeps the
      whole periodic domain (no spatial crop).
    - `variables`: per-sample variables to return with each batch (e.g. `("nu",)`);
      `t0` (of the crop), `dt`, `dx` (and `dy` in 2-D) and `index` are always
      returned.
    - `fields`: the fields to crop (all of one shape), e.g. `("vx", "vy")` for
      Navier–Stokes; default the dataset's main field `u`.
    - `views`: independent crops per sample (2 for VICReg's two views). The first
      view's crops are those of `views=1`; view `v > 1` adds its fields and `t0`
      under the keys `f"{name}_{v}"` (`u_2`, `t0_2`), its offsets drawn from their
      own stream `(seed, e, sample index, v)`, so the views differ in time and space
      origin.
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
        fields: tuple[str, ...] = (FIELD,),
        views: int = 1,
    ):
        ds = source if isinstance(source, xr.Dataset) else open_dataset(source)
        missing = [f for f in fields if f not in ds]
        if missing:
            raise ValueError(
                f"fields {missing} are not in the dataset; it has "
                f"{sorted(str(v) for v in ds.data_vars)}."
            )
        self.fields = {f: np.asarray(ds[f].values, dtype=np.float32) for f in fields}
        self.u = self.fields[fields[0]]  # the shape all fields share
        if self.u.ndim not in (3, 4) or any(
            v.shape != self.u.shape for v in self.fields.values()
        ):
            raise ValueError(
                "CropLoader handles (sample, time, x) or (sample, time, x, y) fields "
                f"of one shape; got {[ds[f].dims for f in fields]}."
            )
        if self.u.ndim == 4 and self.u.shape[2] != self.u.shape[3]:
            raise ValueError(f"2-D crops need a square grid, got {self.u.shape[2:]}.")
        missing = [v for v in variables if v not in ds]
        if missing:
            raise ValueError(
                f"variables {missing} are not in the dataset; it has "
                f"{sorted(str(v) for v in ds.data_vars)}."
            )
        self.per_sample = {
            name: np.asarray(ds[name].values)
            for name in (
                ("t0", "dt", "dx", "index")
                + (("dy",) if self.u.ndim == 4 else ())
                + variables
            )
        }
        n, nt, nx = self.u.shape[:3]
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
        if views < 1:
            raise ValueError(f"views must be >= 1, got {views}.")
        self.views = views
        self.batch_size = batch_size
        self.crop_time = crop_time
        self.crop_space = crop_space
        self.seed = seed
        self.process_index = process_index
        self.process_count = process_count

    def __len__(self) -> int:
        """Batches per epoch (the same on every process)."""
        return len(self.u) // (self.batch_size * self.process_count)

    def _offsets(self, epoch: int, indices: np.ndarray, view: int = 1) -> np.ndarray:
        """Per sample: the first frame and the first point along each space axis."""
        nt, nx = self.u.shape[1:3]
        starts = np.zeros((len(indices), self.u.ndim - 1), dtype=np.int64)
        for j, i in enumerate(indices):
            rng = np.random.default_rng([self.seed, epoch, int(i), view])
            starts[j, 0] = rng.integers(0, nt - self.crop_time + 1)
            for axis in range(1, self.u.ndim - 1):
                starts[j, axis] = rng.integers(0, nx) if self.crop_space < nx else 0
        return starts

    def _crop(self, epoch: int, mine: np.ndarray, view: int):
        """The fields' crops of samples `mine` for one view, and their start times."""
        nx = self.u.shape[2]
        starts = self._offsets(epoch, mine, view)
        st = starts[:, 0]
        t_idx = st[:, None] + np.arange(self.crop_time)[None, :]
        space = [
            (starts[:, a, None] + np.arange(self.crop_space)[None, :]) % nx
            for a in range(1, starts.shape[1])
        ]
        if len(space) == 1:
            index = (mine[:, None, None], t_idx[:, :, None], space[0][:, None, :])
        else:
            index = (
                mine[:, None, None, None],
                t_idx[:, :, None, None],
                space[0][:, None, :, None],
                space[1][:, None, None, :],
            )
        crop = {name: values[index] for name, values in self.fields.items()}
        t0 = self.per_sample["t0"][mine] + st * self.per_sample["dt"][mine]
        return crop, t0

    def epoch(self, epoch: int) -> Iterator[dict[str, np.ndarray]]:
        perm = np.random.default_rng([self.seed, epoch, 0]).permutation(len(self.u))
        global_batch = self.batch_size * self.process_count
        for g in range(len(self)):
            chunk = perm[g * global_batch : (g + 1) * global_batch]
            mine = chunk[
                self.process_index * self.batch_size : (self.process_index + 1)
                * self.batch_size
            ]
            batch = {}
            for view in range(1, self.views + 1):
                suffix = "" if view == 1 else f"_{view}"
                crop, t0 = self._crop(epoch, mine, view)
                batch.update({name + suffix: v for name, v in crop.items()})
                batch["t0" + suffix] = t0
            for name, values in self.per_sample.items():
                if name != "t0":
                    batch[name] = values[mine]
            yield batch
