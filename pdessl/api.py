"""Trained encoders in physics code: `load_encoder` and `embed`.

```python
import pdessl
enc = pdessl.load_encoder("runs/tiny/encoder.eqx")
z = pdessl.embed(enc, trajectory)  # xarray.DataArray with dims ("time", "x")
```

An encoder sees crops of `crop_time x crop_space` grid points, with the crop's
coordinates and the field stacked as channels $(t, x, u)$ exactly as in pretraining
(no augmentation). A trajectory larger than one crop is cut into non-overlapping
tiles and the tile representations are averaged (`crops="mean"`, the default), or only
its first crop is used (`crops="first"`, what the online probe of pretraining sees).

Inputs are checked before anything is computed: named dimensions, uniform grids,
grid spacings within a factor 2 of those the encoder was trained on (other scales are
outside its training distribution; pass `check_grid=False` to embed anyway), enough
points for one crop, and finite values. The errors say which and how to fix it.
"""

import dataclasses
import os
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from pdessl import symmetries
from pdessl.models import ResNet
from pdessl.training import ChannelScales, make_view, make_view_2d
from pdessl.training import load_encoder as _load_encoder_file

GRID_FACTOR = 2.0  # allowed ratio between data and training grid spacings


@dataclasses.dataclass(frozen=True)
class Encoder:
    """A frozen pretrained encoder: the network (inference mode), its BatchNorm
    statistics, and the header written at export (`header["config"]` is the
    pretraining configuration)."""

    network: ResNet
    state: eqx.nn.State
    header: dict
    path: str = ""

    @property
    def pde(self) -> str:
        return self.header["pde"]

    @property
    def crop_time(self) -> int:
        return int(self.header["crop_time"])

    @property
    def crop_space(self) -> int:
        return int(self.header["crop_space"])

    @property
    def dim(self) -> int:
        return self.network.out_dim

    @property
    def scales(self) -> ChannelScales:
        return ChannelScales(**self.header["scales"])

    @property
    def training_dt(self) -> float:
        """Mean time step of the pretraining data (the time scale is dt * crop_time)."""
        return self.header["scales"]["t"] / self.crop_time

    @property
    def training_dx(self) -> float:
        return self.header["scales"]["x"] / self.crop_space


def load_encoder(path: str | Path) -> Encoder:
    """Load an encoder exported by pretraining (`WORKDIR/encoder.eqx`)."""
    network, state, header = _load_encoder_file(path)
    expected = 5 * header["crop_time"] if header["pde"] == "ns" else 3
    if header["in_channels"] != expected:
        raise ValueError(
            f"{path} encodes {header['in_channels']}-channel inputs, but a "
            f"{header['pde']!r} encoder takes {expected}; the file is not a pdessl "
            "pretraining export."
        )
    return Encoder(network, state, header, str(path))


_IDENTITY = symmetries.identity_augmentation()


def _tile_starts(size: int, crop: int, crops: str) -> np.ndarray:
    """Start indices of non-overlapping tiles (one tile for `crops="first"`)."""
    return np.arange(1 if crops == "first" else size // crop) * crop


def _tile_offsets(shape, crop_shape, crops: str) -> jax.Array:
    """`(tiles, ndim)` start offsets of the tiles of a `(time, x[, y])` field."""
    axes = [_tile_starts(n, c, crops) for n, c in zip(shape, crop_shape, strict=True)]
    grid = np.meshgrid(*axes, indexing="ij")
    return jnp.asarray(np.stack([g.ravel() for g in grid], axis=1))


def _one_view(sample: dict, offset, crop_shape, scales):
    """The unaugmented encoder input of one tile of one trajectory: `sample` holds
    `u` (1-D) or `vx`, `vy` (2-D Navier–Stokes) and the per-sample grid."""
    start = [offset[i] for i in range(len(crop_shape))]
    t0 = sample["t0"] + offset[0] * sample["dt"]
    key = jax.random.key(0)  # unused: the identity augmentation draws nothing
    if "vx" in sample:
        vx, vy = (
            jax.lax.dynamic_slice(sample[f], start, crop_shape) for f in ("vx", "vy")
        )
        lengths = (sample["Lx"], sample["Ly"])
        args = (vx, vy, t0, sample["dt"], sample["dx"], sample["dy"], lengths, scales)
        return make_view_2d(_IDENTITY, key, *args)
    u = jax.lax.dynamic_slice(sample["u"], start, crop_shape)
    return make_view(
        _IDENTITY, key, u, t0, sample["dt"], sample["dx"], sample["L"], scales
    )


@eqx.filter_jit
def _embed_batch(network, state, scales, batch: dict, offsets, crop_shape):
    """Mean representation over the tiles (`offsets`) of each trajectory of
    `batch` (arrays with a leading sample axis)."""

    def tiles(sample):
        return jax.vmap(lambda o: _one_view(sample, o, crop_shape, scales))(offsets)

    views = jax.vmap(tiles)(batch)  # (n, tiles, channels, ...)
    # The host checks cover the fields and spacings; t0, the lengths and the scales
    # reach the coordinate channels unchecked: refuse NaN rather than embed it.
    views = eqx.error_if(
        views, ~jnp.all(jnp.isfinite(views)), "non-finite input to the encoder"
    )
    n, k = views.shape[:2]
    h, _ = jax.vmap(network, axis_name="batch", in_axes=(0, None), out_axes=(0, None))(
        views.reshape(n * k, *views.shape[2:]), state
    )
    return jnp.mean(h.reshape(n, k, -1), axis=1)


def _embed_batches(network, state, scales, arrays: dict, crop_shape, crops, size):
    """`_embed_batch` over chunks of `size` samples of NumPy `arrays`."""
    field = arrays["vx"] if "vx" in arrays else arrays["u"]
    offsets = _tile_offsets(field.shape[1:], crop_shape, crops)
    out = []
    for i in range(0, len(field), size):
        chunk = {k: jnp.asarray(v[i : i + size]) for k, v in arrays.items()}
        out.append(_embed_batch(network, state, scales, chunk, offsets, crop_shape))
    return np.asarray(jnp.concatenate(out), dtype=np.float32)


def _check_trajectories(
    encoder: Encoder, u: np.ndarray, dt, dx, check_grid: bool, dy=None
):
    """`u`: `(sample, time, x[, y])`; for 2-D data every velocity field in turn.
    Every problem found is reported in one error."""
    n, nt, *space = u.shape
    problems = []
    if nt < encoder.crop_time or min(space) < encoder.crop_space:
        problems.append(
            f"the data have {nt} time points x {' x '.join(map(str, space))} space "
            f"points, fewer than one encoder crop ({encoder.crop_time} x "
            f"{encoder.crop_space}); use longer trajectories or an encoder pretrained "
            "on smaller crops."
        )
    bad = ~np.isfinite(u).reshape(n, -1).all(axis=1)
    if bad.any():
        problems.append(
            f"the data hold NaN or Inf values (sample(s) {np.flatnonzero(bad)[:10]}"
            f"{'...' if bad.sum() > 10 else ''}); drop or repair them before embedding."
        )
    spacings = [
        ("time step", dt, encoder.training_dt),
        ("grid spacing", dx, encoder.training_dx),
    ]
    if dy is not None:
        spacings.append(("y grid spacing", dy, encoder.training_dx))
    for name, spacing, trained in spacings:
        spacing = np.asarray(spacing, dtype=np.float64)
        if not np.all(np.isfinite(spacing)) or np.any(spacing <= 0):
            problems.append(f"the {name} must be positive and finite, got {spacing}.")
            continue
        ratio = spacing / trained
        if check_grid and (
            np.any(ratio > GRID_FACTOR) or np.any(ratio < 1 / GRID_FACTOR)
        ):
            problems.append(
                f"the data's {name} ({float(np.min(spacing)):.4g}..."
                f"{float(np.max(spacing)):.4g}) is not within a factor {GRID_FACTOR} "
                f"of the encoder's training data ({trained:.4g}): the representation "
                "would be out of distribution."
            )
    if problems:
        fix = (
            " Resample the data to the training grid (resample=True, `pdessl embed "
            "--resample`), or pass check_grid=False (--no-check-grid) to embed anyway."
            if any("out of distribution" in p for p in problems)
            else ""
        )
        raise ValueError(" ".join(p[0].upper() + p[1:] for p in problems) + fix)


def _resample_to_encoder(encoder: Encoder, u: np.ndarray, dt, dx, t0, tolerance):
    """Every trajectory of `u` `(sample, time, x)` resampled onto the encoder's
    training grid (`pdessl.resample`), cut to the common number of frames and points.
    All samples' problems are reported at once. Returns `u, dt, dx, length, t0,
    worst time error`."""
    from pdessl._resample import ResampleError, resample

    n, nt, nx = u.shape
    need_t = (encoder.crop_time - 1) * encoder.training_dt
    need_x = encoder.crop_space * encoder.training_dx
    problems, out = [], []
    span_t, span_x = (nt - 1) * dt, nx * dx
    if np.any(span_t < need_t * (1 - 1e-9)):
        problems.append(
            f"the data span {float(np.min(span_t)):.4g} time units, shorter than one "
            f"encoder crop ({encoder.crop_time} frames x dt {encoder.training_dt:.4g} "
            f"= {need_t:.4g}): no resampling can make a crop."
        )
    if np.any(span_x < need_x * (1 - 1e-9)):
        problems.append(
            f"the domain is {float(np.min(span_x)):.4g} long, shorter than one "
            f"encoder crop ({encoder.crop_space} points x dx {encoder.training_dx:.4g}"
            f" = {need_x:.4g}): no resampling can make a crop."
        )
    errors = {}
    if not problems:
        for i in range(n):
            try:
                out.append(
                    resample(
                        u[i],
                        dt=float(dt[i]),
                        dx=float(dx[i]),
                        t0=float(t0[i]),
                        new_dt=encoder.training_dt,
                        new_dx=encoder.training_dx,
                        tolerance=tolerance,
                    )
                )
            except ResampleError as err:
                errors.setdefault(str(err), []).append(i)
    for message, samples in errors.items():
        problems.append(f"sample(s) {samples[:10]}: {message}")
    if problems:
        raise ValueError(
            "cannot resample onto the encoder's grid: " + " ".join(problems)
        )
    nt_new = min(r.u.shape[0] for r in out)
    nx_new = min(r.u.shape[1] for r in out)
    return (
        np.stack([r.u[:nt_new, :nx_new] for r in out]),
        np.array([r.dt for r in out]),
        np.array([r.dx for r in out]),
        np.array([r.dx * r.u.shape[1] for r in out]),
        np.array([r.t0 for r in out]),
        max(r.time_error for r in out),
    )


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
        u, dt, dx, length, t0, _ = _resample_to_encoder(
            encoder, u, dt, dx, t0, time_tolerance
        )
    _check_trajectories(encoder, u, dt, dx, check_grid)
    length = u.shape[2] * dx if length is None else per_sample(length)
    arrays = dict(u=u, t0=t0, dt=dt, dx=dx, L=length)
    crop_shape = (encoder.crop_time, encoder.crop_space)
    return _embed_batches(
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
    if encoder.pde == "ns":
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


def _dataset_arrays(ds: xr.Dataset, header: dict) -> tuple[dict, tuple]:
    """The per-sample NumPy arrays `_embed_batch` needs from a dataset, and the
    encoder's crop shape."""
    ct, cs = header["crop_time"], header["crop_space"]
    common = dict(t0=ds.t0.values, dt=ds.dt.values, dx=ds.dx.values)
    if header["pde"] == "ns":
        if "vx" not in ds or ds.vx.ndim != 4:
            raise ValueError(
                "a Navier–Stokes encoder needs fields vx, vy (sample, time, x, y)."
            )
        arrays = dict(
            common,
            vx=ds.vx.values,
            vy=ds.vy.values,
            dy=ds.dy.values,
            Lx=ds.dx.values * ds.sizes["x"],
            Ly=ds.dy.values * ds.sizes["y"],
        )
        return arrays, (ct, cs, cs)
    if ds.u.ndim != 3:
        raise ValueError(
            f"a {header['pde']!r} encoder needs 1-D fields u (sample, time, x); the "
            f"data have dims {ds.u.dims}."
        )
    return dict(common, u=ds.u.values, L=ds.L.values), (ct, cs)


def embed_dataset(
    encoder: Encoder,
    source,
    *,
    crops: str = "mean",
    check_grid: bool = True,
    resample: bool = False,
    time_tolerance: float = 1e-3,
    batch_size: int = 64,
) -> xr.Dataset:
    """Representations of every trajectory of a pdessl dataset (path or the
    `open_dataset` object), with the per-sample variables (parameters, grid,
    initial-condition coefficients) carried over. `resample` and `check_grid` as in
    `embed_arrays` (1-D data only for `resample`); the output's attributes record the
    resampling and its measured time-interpolation error."""
    from pdessl import datasets

    ds = source if isinstance(source, xr.Dataset) else datasets.open_dataset(source)
    if ds.attrs.get("pde") not in (None, encoder.pde):
        raise ValueError(
            f"the encoder was pretrained on {encoder.pde!r} data but the dataset holds "
            f"{ds.attrs.get('pde')!r}."
        )
    arrays, crop = _dataset_arrays(ds, encoder.header)
    resampled = "no"
    if resample and encoder.pde == "ns":
        raise ValueError("resample=True supports 1-D data only, not Navier–Stokes.")
    if resample:
        u, dt, dx, length, t0, err = _resample_to_encoder(
            encoder,
            np.asarray(arrays["u"], dtype=np.float64),
            arrays["dt"],
            arrays["dx"],
            arrays["t0"],
            time_tolerance,
        )
        arrays.update(u=u, dt=dt, dx=dx, L=length, t0=t0)
        resampled = (
            f"onto the encoder's grid (dt {encoder.training_dt:.6g}, dx "
            f"{encoder.training_dx:.6g}): Fourier in space, degree-5 Lagrange in time "
            f"(measured relative time-interpolation error <= {err:.3g})"
        )
    if encoder.pde == "ns":
        for field in (arrays["vx"], arrays["vy"]):
            _check_trajectories(
                encoder, field, arrays["dt"], arrays["dx"], check_grid, arrays["dy"]
            )
    else:
        _check_trajectories(
            encoder, arrays["u"], arrays["dt"], arrays["dx"], check_grid
        )
    z = _embed_batches(
        encoder.network, encoder.state, encoder.scales, arrays, crop, crops, batch_size
    )
    keep = {
        name: var
        for name, var in ds.data_vars.items()
        if name not in ("u", "vx", "vy", "p")
        and var.dims[:1] == ("sample",)
        and var.ndim <= 2
    }
    out = xr.Dataset(
        {"representation": (("sample", "feature"), z), **keep},
        attrs=dict(
            encoder=encoder.path,
            crops=crops,
            pde=encoder.pde,
            source=str(ds.encoding.get("source", "")),
            resampled=resampled,
            check_grid=int(check_grid),
        ),
    )
    return out


def write_embeddings(embeddings: xr.Dataset, out: str | Path) -> Path:
    """Write `embed_dataset`'s result as HDF5 (h5netcdf), atomically."""
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    embeddings.to_netcdf(tmp, engine="h5netcdf")
    os.replace(tmp, out)
    return out
