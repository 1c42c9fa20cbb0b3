"""The HDF5 layout of a pdessl dataset file.

One file per split (or per shard of a split), written through h5netcdf so that every
variable carries dimension scales: `xarray.open_dataset(path, engine="h5netcdf")` shows
named dims, and plain h5py reads the same datasets.

- `u` (sample, time, x): the field, float32 by default, one chunk per trajectory;
- per-sample variables over `sample`: `dt`, `dx`, `t0`, `L`, `T`, each physical
  parameter by name (`nu`), and the initial-condition coefficients
  (`ic_amplitude`, `ic_wavenumber`, `ic_phase` over (sample, mode));
- root attributes: `format_version`, `pde`, `recipe` (TOML text), `recipe_name`,
  `identity` (JSON of everything that determines the data), `versions` (JSON),
  `n_complete` (the commit counter), `num_redrawn`.

Samples are appended batch by batch: the sample dimension grows, the data are written,
then `n_complete` is raised and the file flushed; readers trust only the first
`n_complete` samples. Generation itself does not rely on this to survive being killed
(HDF5 files killed mid-write can be unreadable): it commits batches to a journal and
assembles the HDF5 file at the end (`_journal.py`).
"""

import json
import warnings
from pathlib import Path

import h5netcdf
import h5py
import numpy as np
import xarray as xr
from numpy.typing import DTypeLike

from pdessl.errors import UserError

FORMAT_VERSION = 1
FIELD = "u"


class DatasetFileError(UserError):
    """A dataset file that cannot be read or resumed, with the reason and the fix."""


def check_readable(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise DatasetFileError(f"{path} does not exist.")
    if path.is_dir():
        raise DatasetFileError(
            f"{path} is a directory, not a dataset file; give the .h5 file."
        )
    if not h5py.is_hdf5(path):
        raise DatasetFileError(
            f"{path} is not an HDF5 file (truncated, corrupt, or another format)."
        )
    try:
        with h5py.File(path, "r") as f:
            version = f.attrs.get("format_version")
            if version is None:
                raise DatasetFileError(
                    f"{path} is HDF5 but not a pdessl dataset (no format_version "
                    "attribute); use `pdessl import` for LPSDA or PDEArena files."
                )
            if int(np.asarray(version).ravel()[0]) != FORMAT_VERSION:
                raise DatasetFileError(
                    f"{path} has format_version {version}, this pdessl reads "
                    f"{FORMAT_VERSION}."
                )
            if FIELD not in f:
                raise DatasetFileError(f"{path} has no field {FIELD!r}.")
            missing = [k for k in ("n_complete", "identity", "pde") if k not in f.attrs]
            if not missing:
                try:
                    identity = json.loads(f.attrs["identity"])
                    int(identity["num_samples_in_file"])
                except (ValueError, TypeError, KeyError):
                    missing = ["identity (unreadable)"]
            if missing:
                raise DatasetFileError(
                    f"{path} lacks the attribute(s) {missing} of a pdessl dataset; "
                    "it was not written by pdessl (or not completely). Generate it "
                    "again, or use `pdessl import` for LPSDA or PDEArena files."
                )
            # Touch every object header and the last committed trajectory: a
            # truncated file fails here rather than in the middle of training.
            for name in f:
                _ = f[name].shape
            n = _attr_int(f.attrs, "n_complete")
            if n > 0:
                f[FIELD][n - 1]
    except (OSError, KeyError, RuntimeError) as err:
        raise DatasetFileError(
            f"{path} cannot be read as HDF5 ({err}); it is probably truncated or "
            "corrupt. Delete it and generate it again."
        ) from None
    return path


def _attr_int(attrs, name: str) -> int:
    return int(np.asarray(attrs[name]).ravel()[0])


def read_identity(path: str | Path) -> dict:
    with h5py.File(check_readable(path), "r") as f:
        return json.loads(f.attrs["identity"])


def read_n_complete(path: str | Path) -> int:
    with h5py.File(check_readable(path), "r") as f:
        return _attr_int(f.attrs, "n_complete")


class DatasetWriter:
    """Appends committed batches of samples to a new or partially written file."""

    def __init__(self, path: str | Path, file: h5netcdf.File):
        self.path = Path(path)
        self._f = file

    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        time: int,
        space: tuple[int, ...],
        per_sample: dict[str, tuple[DTypeLike, tuple[int, ...]]],
        dtype: str,
        attrs: dict,
        fields: tuple[str, ...] = (FIELD,),
    ) -> "DatasetWriter":
        """A new file. `fields` are the (sample, time, *space) variables (`u`, and
        e.g. `vx`, `vy` for Navier–Stokes); `per_sample` maps each per-sample variable
        to (dtype, trailing shape); a trailing shape `(m,)` gets the dim `mode`."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        f = h5netcdf.File(path, "w")
        space_dims = ("x", "y", "z")[: len(space)]
        dims = {
            "sample": None,
            "time": time,
            **dict(zip(space_dims, space, strict=True)),
        }
        modes = {shape[0] for _, shape in per_sample.values() if shape}
        if len(modes) > 1:
            raise ValueError(f"per-sample vectors must share one length, got {modes}.")
        if modes:
            dims["mode"] = modes.pop()
        f.dimensions = dims
        if FIELD not in fields:
            raise ValueError(f"the fields must include {FIELD!r}, got {fields}.")
        for name in fields:
            f.create_variable(
                name,
                ("sample", "time", *space_dims),
                dtype=dtype,
                chunks=(1, time, *space),  # one trajectory per chunk
            )
        for name, (var_dtype, shape) in per_sample.items():
            f.create_variable(
                name, ("sample", *(("mode",) if shape else ())), dtype=var_dtype
            )
        for key, value in attrs.items():
            f.attrs[key] = value
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["n_complete"] = 0
        f.attrs["num_redrawn"] = 0
        f.flush()
        return cls(path, f)

    @property
    def n_complete(self) -> int:
        return _attr_int(self._f.attrs, "n_complete")

    def append(self, batch: dict[str, np.ndarray], redrawn: int = 0) -> None:
        n = self.n_complete
        count = len(batch[FIELD])
        self._f.resize_dimension("sample", n + count)
        for name, values in batch.items():
            var = self._f.variables[name]
            var[n : n + count] = np.asarray(values).astype(var.dtype)
        self._f.attrs["num_redrawn"] = _attr_int(self._f.attrs, "num_redrawn") + redrawn
        # Commit: only now do readers and resumes see these samples.
        self._f.attrs["n_complete"] = n + count
        self._f.flush()

    def add_redrawn(self, count: int) -> None:
        self._f.attrs["num_redrawn"] = _attr_int(self._f.attrs, "num_redrawn") + count
        self._f.flush()

    def close(self) -> None:
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_dataset(path: str | Path, *, allow_incomplete: bool = False) -> xr.Dataset:
    """Open a pdessl dataset file as an `xarray.Dataset` (lazily, through h5netcdf).

    Only committed samples are shown. A generation that has not finished (its samples
    are still in the journal `PATH.partial/`) raises, naming how many samples are
    committed, unless `allow_incomplete=True`, which loads them into memory.
    """
    from ._journal import Journal, journal_dir

    path = Path(path)
    if not path.exists() and (journal_dir(path) / "identity.json").exists():
        journal = Journal.open(path, {})
        n = journal.n_complete
        expected = journal.identity["num_samples_in_file"]
        if not allow_incomplete:
            raise DatasetFileError(
                f"{path} is incomplete: {n} of {expected} samples were committed (in "
                f"{journal.folder}). Run the same `pdessl generate` command again to "
                "resume, or pass allow_incomplete=True to read what is there."
            )
        return _journal_as_dataset(journal)
    path = check_readable(path)
    ds = _open_with_dimensions(path)
    n = int(np.asarray(ds.attrs["n_complete"]).ravel()[0])
    identity = json.loads(ds.attrs["identity"])
    expected = identity["num_samples_in_file"]
    if n < expected and not allow_incomplete:
        ds.close()
        raise DatasetFileError(
            f"{path} is incomplete: {n} of {expected} samples were committed. Run the "
            "same `pdessl generate` command again to resume, or pass "
            "allow_incomplete=True to read what is there."
        )
    ds = ds.isel(sample=slice(0, n))
    try:
        check_grid(ds, path)
    except DatasetFileError:
        ds.close()
        raise
    return ds


def _open_with_dimensions(path: Path) -> xr.Dataset:
    """The file through h5netcdf, after refusing broken or missing dimension scales
    (a file written or edited with plain h5py): xarray would name its dimensions
    `phony_dim_*` or fail with a message about "labeled" dimensions."""
    fix = (
        "it was not written by pdessl, or was edited with h5py. Generate it again, "
        "or use `pdessl import` for LPSDA or PDEArena files."
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # h5netcdf's notes on phony dimensions
            ds = xr.open_dataset(path, engine="h5netcdf")
    except (ValueError, KeyError, OSError, RuntimeError) as err:
        raise DatasetFileError(
            f"{path}: its dimension scales are broken ({err}); {fix}"
        ) from None
    dims = ds[FIELD].dims
    if dims[:1] != ("sample",) or "time" not in dims:
        ds.close()
        raise DatasetFileError(
            f"{path}: the field {FIELD!r} lacks its dimension scales (its dimensions "
            f"are {list(dims)}, expected ['sample', 'time', 'x', ...]); {fix}"
        )
    return ds


# dx and L are stored in float64 (float32 in some imported files): agreement to 1e-5
# relative is exact arithmetic for both, far below any real mismatch (one point, 1/nx).
_GRID_RTOL = 1e-5


def grid_mismatch(length, dx, nx: int) -> np.ndarray:
    """Per sample, whether `L != dx * nx` (beyond rounding)."""
    length = np.asarray(length, dtype=np.float64)
    dx = np.asarray(dx, dtype=np.float64)
    return ~np.isclose(length, dx * nx, rtol=_GRID_RTOL, atol=0.0)


def check_grid(ds: xr.Dataset, path: str | Path) -> None:
    """Refuse a 1-D field whose number of points disagrees with its per-sample
    metadata: the periodic length is `L = dx * nx` (points `i dx` on `[0, L)`, or cell
    centres of `[0, L]`)."""
    if not {"L", "dx"} <= set(ds.data_vars) or "x" not in ds.dims:
        return
    nx = ds.sizes["x"]
    length = np.asarray(ds["L"].values, dtype=np.float64)
    dx = np.asarray(ds["dx"].values, dtype=np.float64)
    bad = grid_mismatch(length, dx, nx)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DatasetFileError(
            f"{path}: the field has {nx} points in x, but its grid metadata say "
            f"otherwise in {int(bad.sum())} of {len(bad)} samples (sample {i}: "
            f"L = {length[i]:.6g}, dx = {dx[i]:.6g}, so L / dx = "
            f"{length[i] / dx[i]:.6g} points). The field was resized without its "
            "dx and L; regenerate the file, or fix dx (= L / nx) for every sample."
        )


def count_non_finite(path: str | Path, fields: tuple[str, ...] | None = None) -> dict:
    """The number of NaN or Inf values in each field of a dataset file (the
    `(sample, time, *space)` variables), read one trajectory chunk at a time."""
    path = check_readable(path)
    counts = {}
    with h5py.File(path, "r") as f:
        n = _attr_int(f.attrs, "n_complete")
        names = fields or tuple(
            k for k in f if isinstance(f[k], h5py.Dataset) and f[k].ndim >= 3
        )
        for name in names:
            var = f[name]
            bad = 0
            step = max(1, 2**24 // max(1, int(np.prod(var.shape[1:]))))
            for a in range(0, n, step):
                bad += int(np.count_nonzero(~np.isfinite(var[a : min(n, a + step)])))
            counts[name] = bad
    return counts


def check_finite(path: str | Path) -> None:
    """Refuse a dataset file whose fields hold NaN or Inf, naming the file, the
    field and the count."""
    counts = {k: v for k, v in count_non_finite(path).items() if v}
    if counts:
        what = ", ".join(f"{v} in {k!r}" for k, v in counts.items())
        raise DatasetFileError(
            f"{path} holds non-finite values (NaN or Inf): {what}. Regenerate it, or "
            "drop the bad samples (`pdessl inspect` lists them)."
        )


def _journal_as_dataset(journal) -> xr.Dataset:
    data = journal.load()
    if not data:
        return xr.Dataset(attrs=dict(n_complete=0))
    space = ("x", "y", "z")[: data[FIELD].ndim - 2]
    variables = {}
    for name, values in data.items():
        dims = (
            ("sample", "time", *space)
            if name == FIELD
            else ("sample", "mode")[: values.ndim]
        )
        variables[name] = (dims, values)
    return xr.Dataset(
        variables,
        attrs=dict(identity=json.dumps(journal.identity), n_complete=len(data[FIELD])),
    )
