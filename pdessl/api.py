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
from pdessl.training import ChannelScales, make_view
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
    if header["in_channels"] != 3:
        raise NotImplementedError(
            f"{path} encodes {header['in_channels']}-channel inputs (pde "
            f"{header['pde']!r}); `embed` handles 1-D (t, x, u) encoders so far."
        )
    return Encoder(network, state, header, str(path))


_IDENTITY = symmetries.Augmentation((symmetries.SpaceShift(0.0),), 1, 1)


def _tile_starts(size: int, crop: int, crops: str) -> np.ndarray:
    """Start indices of non-overlapping tiles (one tile for `crops="first"`)."""
    return np.arange(1 if crops == "first" else size // crop) * crop


@eqx.filter_jit
def _embed_batch(
    network, state, scales, u, t0, dt, dx, length, starts_t, starts_x, crop_shape
):
    """Mean representation over the tiles of each trajectory of `u` (n, time, x)."""
    ct, cs = crop_shape

    def view(u1, t01, dt1, dx1, l1, st, sx):
        crop = jax.lax.dynamic_slice(u1, (st, sx), (ct, cs))
        key = jax.random.key(0)  # unused: the identity augmentation draws nothing
        return make_view(_IDENTITY, key, crop, t01 + st * dt1, dt1, dx1, l1, scales)

    def tiles(u1, t01, dt1, dx1, l1):
        per_t = jax.vmap(view, in_axes=(None,) * 5 + (None, 0))
        per_tx = jax.vmap(per_t, in_axes=(None,) * 5 + (0, None))
        return per_tx(u1, t01, dt1, dx1, l1, starts_t, starts_x).reshape(-1, 3, ct, cs)

    views = jax.vmap(tiles)(u, t0, dt, dx, length)  # (n, tiles, 3, ct, cs)
    n, k = views.shape[:2]
    h, _ = jax.vmap(network, axis_name="batch", in_axes=(0, None), out_axes=(0, None))(
        views.reshape(n * k, *views.shape[2:]), state
    )
    return jnp.mean(h.reshape(n, k, -1), axis=1)


def _check_trajectories(encoder: Encoder, u: np.ndarray, dt, dx, check_grid: bool):
    n, nt, nx = u.shape
    if nt < encoder.crop_time or nx < encoder.crop_space:
        raise ValueError(
            f"the data have {nt} time points x {nx} space points, fewer than one "
            f"encoder crop ({encoder.crop_time} x {encoder.crop_space}); use longer "
            "trajectories or an encoder pretrained on smaller crops."
        )
    bad = ~np.isfinite(u).reshape(n, -1).all(axis=1)
    if bad.any():
        raise ValueError(
            f"the data hold NaN or Inf values (sample(s) {np.flatnonzero(bad)[:10]}"
            f"{'...' if bad.sum() > 10 else ''}); drop or repair them before embedding."
        )
    for name, spacing, trained in (
        ("time step", dt, encoder.training_dt),
        ("grid spacing", dx, encoder.training_dx),
    ):
        spacing = np.asarray(spacing, dtype=np.float64)
        if not np.all(np.isfinite(spacing)) or np.any(spacing <= 0):
            raise ValueError(f"the {name} must be positive and finite, got {spacing}.")
        ratio = spacing / trained
        if check_grid and (
            np.any(ratio > GRID_FACTOR) or np.any(ratio < 1 / GRID_FACTOR)
        ):
            raise ValueError(
                f"the data's {name} ({float(np.min(spacing)):.4g}..."
                f"{float(np.max(spacing)):.4g}) is not within a factor {GRID_FACTOR} "
                f"of the encoder's training data ({trained:.4g}): the representation "
                "would be out of distribution. Resample the data to the training grid, "
                "or pass check_grid=False to embed anyway."
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
    batch_size: int = 64,
) -> np.ndarray:
    """Representations `(sample, dim)` of trajectories `u` `(sample, time, x)` on
    uniform periodic grids; `dt`, `dx`, `length` (default `x points * dx`) and `t0`
    are scalars or one value per sample."""
    if crops not in ("mean", "first"):
        raise ValueError(f"crops must be 'mean' or 'first', got {crops!r}.")
    u = np.asarray(u, dtype=np.float64)
    if u.ndim != 3:
        raise ValueError(
            f"expected trajectories of shape (sample, time, x), got shape {u.shape}."
        )
    n, nt, nx = u.shape
    _check_trajectories(encoder, u, dt, dx, check_grid)

    def per_sample(value):
        return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,))

    dt, dx, t0 = per_sample(dt), per_sample(dx), per_sample(t0)
    length = nx * dx if length is None else per_sample(length)
    starts_t = jnp.asarray(_tile_starts(nt, encoder.crop_time, crops))
    starts_x = jnp.asarray(_tile_starts(nx, encoder.crop_space, crops))
    out = []
    for i in range(0, n, batch_size):
        s = slice(i, i + batch_size)
        out.append(
            _embed_batch(
                encoder.network,
                encoder.state,
                encoder.scales,
                jnp.asarray(u[s]),
                jnp.asarray(t0[s]),
                jnp.asarray(dt[s]),
                jnp.asarray(dx[s]),
                jnp.asarray(length[s]),
                starts_t,
                starts_x,
                (encoder.crop_time, encoder.crop_space),
            )
        )
    return np.asarray(jnp.concatenate(out), dtype=np.float32)


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
    batch_size: int = 64,
):
    """Representations of trajectories.

    - `data` an `xarray.DataArray` with dims `("time", "x")` or `("sample", "time",
      "x")` (any order): the grid comes from its `time` and `x` coordinates (uniform,
      `length = x points * dx`, periodic), or from `dt`/`dx` when a coordinate is
      absent. Returns a `DataArray` named `representation` with dims `("feature",)`
      or `("sample", "feature")`, keeping the sample coordinate.
    - `data` a NumPy array `(time, x)` or `(sample, time, x)`: `dt` and `dx` are
      required. Returns a NumPy array `(dim,)` or `(sample, dim)`.
    """
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
        batch_size=batch_size,
    )
    return z[0] if u.ndim == 2 else z


def embed_dataset(
    encoder: Encoder, source, *, crops: str = "mean", batch_size: int = 64
) -> xr.Dataset:
    """Representations of every trajectory of a pdessl dataset (path or the
    `open_dataset` object), with the per-sample variables (parameters, grid,
    initial-condition coefficients) carried over."""
    from pdessl import datasets

    ds = source if isinstance(source, xr.Dataset) else datasets.open_dataset(source)
    if ds.u.ndim != 3:
        raise NotImplementedError(
            f"embedding {ds.u.ndim - 2}-D fields is not supported yet (dims "
            f"{ds.u.dims})."
        )
    if ds.attrs.get("pde") not in (None, encoder.pde):
        raise ValueError(
            f"the encoder was pretrained on {encoder.pde!r} data but the dataset holds "
            f"{ds.attrs.get('pde')!r}."
        )
    z = embed_arrays(
        encoder,
        ds.u.values,
        dt=ds.dt.values,
        dx=ds.dx.values,
        length=ds.L.values,
        t0=ds.t0.values,
        crops=crops,
        batch_size=batch_size,
    )
    keep = {
        name: var
        for name, var in ds.data_vars.items()
        if name != "u" and var.dims and var.dims[0] == "sample"
    }
    out = xr.Dataset(
        {"representation": (("sample", "feature"), z), **keep},
        attrs=dict(
            encoder=encoder.path,
            crops=crops,
            pde=encoder.pde,
            source=str(ds.encoding.get("source", "")),
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
