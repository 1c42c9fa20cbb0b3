"""Augment a dataset file: regridded symmetry transforms written in the same layout.

Each sample's group parameters are drawn from `fold_in(key(seed), sample index)` and
stored as variables `eps_<generator>`, with the transformed `t0`, `dt`, `dx`, `L`, so
anyone can check (e.g. with `pdessl.symmetries.relative_residual`) or look at them.
"""

import json
from pathlib import Path

import h5netcdf
import jax
import jax.numpy as jnp
import numpy as np

from pdessl import pdes, symmetries
from pdessl.datasets import DatasetFileError, check_finite, open_dataset
from pdessl.datasets._store import FIELD, DatasetWriter
from pdessl.pdes._descriptor import full_name
from pdessl.symmetries import Augmentation, GridField1d, TimeShift

_BATCH = 64


def augment_file(
    src: str | Path,
    out: str | Path,
    augmentation: Augmentation,
    *,
    seed: int = 0,
    crop_time: int | None = None,
) -> Path:
    """Write `augmentation` applied (regridded, exactly) to every sample of `src`."""
    ds = open_dataset(src)
    check_finite(src)  # a symmetry of NaN is NaN: refuse rather than copy it
    if ds[FIELD].ndim != 3:
        raise DatasetFileError("pdessl augment handles 1-D (sample, time, x) files.")
    for g in augmentation.generators:
        if not g.regriddable:
            raise ValueError(
                f"{g.name} has no exact form on the grid; leave it out of --generators."
            )
    n, nt, nx = ds[FIELD].shape
    has_time_shift = any(isinstance(g, TimeShift) for g in augmentation.generators)
    if has_time_shift and crop_time is None:
        raise ValueError("a time shift needs --crop-time (frames kept per sample).")
    if crop_time is not None and not 1 <= crop_time <= nt:
        raise ValueError(f"--crop-time must be in [1, {nt}], got {crop_time}.")
    out_nt = crop_time if has_time_shift else nt
    out = Path(out)
    if out.exists():
        raise DatasetFileError(f"{out} exists; augment writes a new file.")

    with h5netcdf.File(src, "r") as f:
        per_sample = {
            name: (var.dtype, var.shape[1:])
            for name, var in f.variables.items()
            if name != FIELD and var.dimensions[:1] == ("sample",)
        }
        attrs = {
            k: f.attrs[k]
            for k in f.attrs
            if k not in ("n_complete", "num_redrawn", "format_version")
        }
        dtype = str(f.variables[FIELD].dtype)
    for name in augmentation.names:
        per_sample[f"eps_{name}"] = (np.float64, ())
    for name in ("t0", "dt", "dx"):
        if name not in per_sample:
            raise DatasetFileError(f"{src} lacks the per-sample variable {name!r}.")
    attrs["augmentation"] = json.dumps(
        dict(
            generators=augmentation.names,
            strengths=[g.strength for g in augmentation.generators],
            seed=seed,
            crop_time=crop_time,
            source=str(src),
            mode="regridded (each generator once, in order)",
        )
    )

    missing = [name for name in augmentation.needs if name not in ds]
    if missing:
        raise DatasetFileError(
            f"{src} lacks the per-sample {missing} that {augmentation.names} read; "
            "it is not a file of this PDE."
        )

    @jax.jit
    def run(u, t0, dt, dx, index, params):
        def one(u, t0, dt, dx, i, params):
            eps = augmentation.sample(jax.random.fold_in(jax.random.key(seed), i))
            field = augmentation.apply_regridded(
                eps, GridField1d(u, t0, dt, dx, params), crop_time
            )
            return field, eps

        return jax.vmap(one)(u, t0, dt, dx, index, params)

    index = ds["index"].values if "index" in ds else np.arange(n)
    with DatasetWriter.create(
        out, time=out_nt, space=(nx,), per_sample=per_sample, dtype=dtype, attrs=attrs
    ) as writer:
        for a in range(0, n, _BATCH):
            b = min(n, a + _BATCH)
            field, eps = run(
                jnp.asarray(ds[FIELD].values[a:b], dtype=float),
                jnp.asarray(ds["t0"].values[a:b]),
                jnp.asarray(ds["dt"].values[a:b]),
                jnp.asarray(ds["dx"].values[a:b]),
                jnp.asarray(index[a:b]),
                {k: jnp.asarray(ds[k].values[a:b]) for k in augmentation.needs},
            )
            batch = {name: ds[name].values[a:b] for name in per_sample if name in ds}
            batch.update(
                {
                    FIELD: np.asarray(field.u),
                    "t0": np.asarray(field.t0),
                    "dt": np.asarray(field.dt),
                    "dx": np.asarray(field.dx),
                }
            )
            if "L" in batch:
                batch["L"] = np.asarray(field.dx) * nx
            if "T" in batch:  # the horizon rescales with the time step
                batch["T"] = batch["T"] * np.asarray(field.dt) / ds["dt"].values[a:b]
            for j, name in enumerate(augmentation.names):
                batch[f"eps_{name}"] = np.asarray(eps[:, j])
            writer.append(batch)
    ds.close()
    return out


def grid_augmentation(pde, generators=None, strengths=None) -> symmetries.Augmentation:
    """The regriddable generators of `pde` (a name or `pdessl.pdes.PDE`) as one
    first-order `Augmentation` for `augment_file`: by default all of them at their
    default strengths; `generators` names a subset (`time_shift` included, strength
    1.0 unless the PDE gives one) and `strengths` one value per name."""
    pde = pdes.get(pde)
    chosen = {}
    if strengths and not generators:
        raise ValueError("--strengths needs --generators to say which is which.")
    if generators:
        if strengths and len(strengths) != len(generators):
            raise ValueError("give one --strengths value per --generators name.")
        known = (*pde.default_augmentation().names, "time_shift")
        unknown = set(generators) - set(known)
        if unknown:
            raise ValueError(
                f"unknown generator(s) {sorted(unknown)} for {pde.name}; choose from "
                f"{', '.join(known)}."
            )
        values = strengths or [None] * len(generators)
        defaults = {full_name(g): g.strength for g in pde.default_generators()}
        chosen = dict.fromkeys(known, 0.0)
        for name, value in zip(generators, values, strict=True):
            chosen[name] = value if value is not None else defaults.get(name, 1.0)
    gens = tuple(g for g in pde.default_generators(**chosen) if g.regriddable)
    return symmetries.Augmentation(gens, trotter_order=1, trotter_steps=1)
