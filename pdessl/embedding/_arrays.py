"""Embedding NumPy arrays and xarray DataArrays of 1-D trajectories."""

import numpy as np
import xarray as xr

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


def embed(
    encoder: Encoder,
    data,
    *,
    dt=None,
    dx=None,
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
    """
    if encoder.descriptor.ndim != 1:
        raise ValueError(
            "Navier–Stokes encoders read the velocity fields vx, vy: use "
            "pdessl.embed_dataset on a dataset (file or xarray.Dataset) instead."
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
        grid = {}
        for name, given in (("time", dt), ("x", dx)):
            if name in arr.coords:
                start, step = _spacing(arr.coords[name], name)
                if given is not None and not np.isclose(step, given, rtol=1e-4):
                    raise ValueError(
                        f"the {name} coordinate has spacing {step:.6g} but "
                        f"{given:.6g} was passed; pass one or the other."
                    )
                grid[name] = (start, step)
            elif given is not None:
                grid[name] = (0.0, given)
            else:
                raise ValueError(
                    f"the data have no {name!r} coordinate; assign one "
                    f"(DataArray.assign_coords) or pass "
                    f"{'dt' if name == 'time' else 'dx'}=..."
                )
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
