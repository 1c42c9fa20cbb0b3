"""Embedding whole pdessl datasets, keeping their per-sample variables."""

import os
from pathlib import Path

import numpy as np
import xarray as xr

from pdessl import pdes

from ._encoder import Encoder
from ._engine import check_trajectories, embed_batches, resample_to_encoder


def dataset_arrays(ds: xr.Dataset, header: dict) -> tuple[dict, tuple]:
    """The per-sample NumPy arrays `_embed_batch` needs from a dataset, and the
    encoder's crop shape."""
    ct, cs = header["crop_time"], header["crop_space"]
    common = dict(t0=ds.t0.values, dt=ds.dt.values, dx=ds.dx.values)
    if pdes.get(header["pde"]).ndim == 2:
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
    arrays, crop = dataset_arrays(ds, encoder.header)
    resampled = "no"
    if resample and encoder.descriptor.ndim != 1:
        raise ValueError("resample=True supports 1-D data only, not Navier–Stokes.")
    if resample:
        u, dt, dx, length, t0, err = resample_to_encoder(
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
    if encoder.descriptor.ndim == 2:
        for field in (arrays["vx"], arrays["vy"]):
            check_trajectories(
                encoder, field, arrays["dt"], arrays["dx"], check_grid, arrays["dy"]
            )
    else:
        check_trajectories(encoder, arrays["u"], arrays["dt"], arrays["dx"], check_grid)
    z = embed_batches(
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
