"""Embedding NumPy arrays and xarray DataArrays of 1-D trajectories."""

import numpy as np
import xarray as xr

from ._datasets import embed_dataset
from ._encoder import Encoder
from ._engine import check_trajectories, embed_batches, resample_to_encoder


def embed_arrays(
    encoder: Encoder,
    u,
    *,
    dt,
    dx,
    length=None,
    t0=0.0,
    crops: str = "mean",
    check_grid: bool = True,
    resample: bool = False,
    time_tolerance: float = 1e-3,
    batch_size: int = 64,
) -> np.ndarray:
    """Representations `(sample, dim)` of trajectories `u` `(sample, time, x)` on
    uniform periodic grids; `dt`, `dx`, `length` (default `x points * dx`) and `t0`
    are scalars or one value per sample.

    With `resample=True` every trajectory is first brought onto the encoder's
    training grid by `pdessl.resample` (Fourier in space, degree-5 Lagrange in time,
    refused when its measured relative error exceeds `time_tolerance`) and cut to the
    common number of frames and points."""
    if crops not in ("mean", "first"):
        raise ValueError(f"crops must be 'mean' or 'first', got {crops!r}.")
    u = np.asarray(u, dtype=np.float64)
    if u.ndim != 3:
        raise ValueError(
            f"expected trajectories of shape (sample, time, x), got shape {u.shape}."
        )
    n, _, nx = u.shape

    def per_sample(value):
        return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,))

    dt, dx, t0 = per_sample(dt), per_sample(dx), per_sample(t0)
    if resample:
        if length is not None and not np.allclose(per_sample(length), nx * dx):
            raise ValueError(
                "resample=True needs periodic data whose length is x points * dx."
            )
        u, dt, dx, length, t0, _ = resample_to_encoder(
            encoder, u, dt, dx, t0, time_tolerance
        )
    check_trajectories(encoder, u, dt, dx, check_grid)
    length = u.shape[2] * dx if length is None else per_sample(length)
    arrays = dict(u=u, t0=t0, dt=dt, dx=dx, L=length)
    crop_shape = (encoder.crop_time, encoder.crop_space)
    return embed_batches(
        encoder.network,
        encoder.state,
        encoder.scales,
        arrays,
        crop_shape,
        crops,
        batch_size,
    )


def _spacing(coord: xr.DataArray, name: str) -> tuple[float, float]:
    values = np.asarray(coord.values, dtype=np.float64)
    if values.size < 2:
        raise ValueError(f"coordinate {name!r} needs at least 2 points.")
    steps = np.diff(values)
    step = float(np.mean(steps))
    # Coordinates stored in float32 carry ~1e-7 relative error per value; 1e-4 of a
    # step separates that from a genuinely non-uniform grid.
    if step <= 0 or np.max(np.abs(steps - step)) > 1e-4 * abs(step):
        raise ValueError(
            f"coordinate {name!r} is not a uniform increasing grid (steps "
            f"{steps.min():.6g}..{steps.max():.6g}); interpolate to a uniform grid."
        )
    return float(values[0]), step


def _grid_from_coords(arr, given: dict) -> dict:
    """`{dim: (start, step)}` for each dim of `given` (`{dim: spacing or None}`):
    from the DataArray's uniform coordinate, else the spacing given (start 0)."""
    flags = {"time": "dt", "x": "dx", "y": "dy"}
    grid = {}
    for name, step_given in given.items():
        if name in arr.coords:
            start, step = _spacing(arr.coords[name], name)
            if step_given is not None and not np.isclose(step, step_given, rtol=1e-4):
                raise ValueError(
                    f"the {name} coordinate has spacing {step:.6g} but "
                    f"{step_given:.6g} was passed; pass one or the other."
                )
            grid[name] = (start, step)
        elif step_given is not None:
            grid[name] = (0.0, step_given)
        else:
            raise ValueError(
                f"the data have no {name!r} coordinate; assign one "
                f"(assign_coords) or pass {flags[name]}=..."
            )
    return grid


def _velocity_dataset(data, dt, dx, dy, t0, pde: str) -> tuple[xr.Dataset, bool]:
    """2-D input of `embed` (a Dataset with `vx`, `vy`, or a `(vx, vy)` pair of
    DataArrays, over `time`, `x`, `y` and optionally `sample`) as a dataset in the
    file layout `embed_dataset` reads; and whether it held a single trajectory."""
    if isinstance(data, (tuple, list)):
        if len(data) != 2 or not all(isinstance(d, xr.DataArray) for d in data):
            raise ValueError(
                "a Navier–Stokes encoder takes a pair (vx, vy) of DataArrays or an "
                "xarray.Dataset with variables vx and vy."
            )
        vx, vy = data
        if vx.sizes != vy.sizes:
            raise ValueError(
                f"vx and vy must have the same dims and sizes, got {dict(vx.sizes)} "
                f"and {dict(vy.sizes)}."
            )
        try:
            data = xr.merge([vx.rename("vx"), vy.rename("vy")], join="exact")
        except ValueError:
            raise ValueError(
                "vx and vy have different coordinates; give both on the same grid."
            ) from None
    if not isinstance(data, xr.Dataset):
        raise ValueError(
            "a Navier–Stokes encoder reads the velocity fields: pass an "
            "xarray.Dataset with vx and vy over ('time', 'x', 'y') (or a (vx, vy) "
            "pair of DataArrays), or use pdessl.embed_dataset on a dataset file."
        )
    missing = [v for v in ("vx", "vy") if v not in data.data_vars]
    if missing:
        raise ValueError(
            f"the dataset lacks the velocity field(s) {missing}; a Navier–Stokes "
            f"encoder reads vx and vy (it has {sorted(map(str, data.data_vars))})."
        )
    dims = set(data.vx.dims)
    if (
        dims not in ({"time", "x", "y"}, {"sample", "time", "x", "y"})
        or set(data.vy.dims) != dims
    ):
        raise ValueError(
            f"expected vx and vy over ('time', 'x', 'y') or ('sample', 'time', 'x', "
            f"'y'), got {data.vx.dims} and {data.vy.dims}; rename the dims "
            "(Dataset.rename) to these names."
        )
    single = "sample" not in dims
    order = ("sample", "time", "x", "y")
    vx, vy = (
        (data[v].expand_dims("sample") if single else data[v]).transpose(*order)
        for v in ("vx", "vy")
    )
    grid = _grid_from_coords(vx, {"time": dt, "x": dx, "y": dy})
    n = vx.sizes["sample"]

    def per_sample(value):
        return ("sample", np.full(n, value, dtype=np.float64))

    fields = dict(
        vx=(order, np.asarray(vx.values, dtype=np.float64)),
        vy=(order, np.asarray(vy.values, dtype=np.float64)),
        t0=per_sample(grid["time"][0] if t0 is None else t0),
        dt=per_sample(grid["time"][1]),
        dx=per_sample(grid["x"][1]),
        dy=per_sample(grid["y"][1]),
    )
    coords = {"sample": vx.coords["sample"]} if "sample" in vx.coords else {}
    return xr.Dataset(fields, coords=coords, attrs=dict(pde=pde)), single


def embed(
    encoder: Encoder,
    data,
    *,
    dt=None,
    dx=None,
    dy=None,
    length=None,
    t0=None,
    crops: str = "mean",
    check_grid: bool = True,
    resample: bool = False,
    batch_size: int = 64,
):
    """Representations of trajectories.

    `resample=True` brings the data onto the encoder's training grid first (see
    `embed_arrays`); `check_grid=False` embeds off-grid data as they are.

    - `data` an `xarray.DataArray` with dims `("time", "x")` or `("sample", "time",
      "x")` (any order): the grid comes from its `time` and `x` coordinates (uniform,
      `length = x points * dx`, periodic), or from `dt`/`dx` when a coordinate is
      absent. Returns a `DataArray` named `representation` with dims `("feature",)`
      or `("sample", "feature")`, keeping the sample coordinate.
    - `data` a NumPy array `(time, x)` or `(sample, time, x)`: `dt` and `dx` are
      required. Returns a NumPy array `(dim,)` or `(sample, dim)`.
    - 2-D (a Navier–Stokes encoder): `data` an `xarray.Dataset` with `vx`, `vy`
      over `("time", "x", "y")` or `("sample", "time", "x", "y")`, or a `(vx, vy)`
      pair of DataArrays; the grid comes from the `time`, `x`, `y` coordinates (or
      `dt`, `dx`, `dy`), the domain is `points * spacing` per axis. The same checks
      as in 1-D; returns a `DataArray` as above, equal to `embed_dataset`'s.
    """
    if encoder.descriptor.ndim == 2:
        if resample:
            raise ValueError("resample=True supports 1-D data only, not Navier–Stokes.")
        ds, single = _velocity_dataset(data, dt, dx, dy, t0, encoder.pde)
        out = embed_dataset(
            encoder, ds, crops=crops, check_grid=check_grid, batch_size=batch_size
        ).representation
        out = out.assign_coords(ds.coords)
        out.attrs = dict(encoder=encoder.path, crops=crops, pde=encoder.pde)
        return out.isel(sample=0, drop=True) if single else out
    if isinstance(data, (xr.Dataset, tuple, list)):
        raise ValueError(
            f"a {encoder.pde!r} encoder reads one field u: pass a DataArray (e.g. "
            "dataset['u']) or a NumPy array, or use pdessl.embed_dataset on a "
            "dataset."
        )
    if isinstance(data, xr.DataArray):
        dims = set(data.dims)
        if dims not in ({"time", "x"}, {"sample", "time", "x"}):
            raise ValueError(
                f"expected dims ('time', 'x') or ('sample', 'time', 'x'), got "
                f"{data.dims}; rename them (DataArray.rename) to these names."
            )
        single = "sample" not in dims
        arr = data.expand_dims("sample") if single else data
        arr = arr.transpose("sample", "time", "x")
        grid = _grid_from_coords(arr, {"time": dt, "x": dx})
        z = embed_arrays(
            encoder,
            arr.values,
            dt=grid["time"][1],
            dx=grid["x"][1],
            length=length,
            t0=grid["time"][0] if t0 is None else t0,
            crops=crops,
            check_grid=check_grid,
            resample=resample,
            batch_size=batch_size,
        )
        coords = {"sample": arr.coords["sample"]} if "sample" in arr.coords else {}
        out = xr.DataArray(
            z, dims=("sample", "feature"), coords=coords, name="representation"
        )
        out.attrs.update(encoder=encoder.path, crops=crops, pde=encoder.pde)
        return out.isel(sample=0, drop=True) if single else out
    u = np.asarray(data)
    if u.ndim not in (2, 3):
        raise ValueError(
            f"expected an array (time, x) or (sample, time, x), got shape {u.shape}."
        )
    if dt is None or dx is None:
        raise ValueError(
            "a NumPy array carries no grid: pass dt=... and dx=... (or a DataArray "
            "with time and x coordinates)."
        )
    z = embed_arrays(
        encoder,
        u[None] if u.ndim == 2 else u,
        dt=dt,
        dx=dx,
        length=length,
        t0=0.0 if t0 is None else t0,
        crops=crops,
        check_grid=check_grid,
        resample=resample,
        batch_size=batch_size,
    )
    return z[0] if u.ndim == 2 else z
