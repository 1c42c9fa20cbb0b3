"""Conditioning vectors for time-steppers: one per trajectory, computed once.

- `parameter_condition`: the ground-truth per-sample variables of a dataset file
  (e.g. `nu`), log-transformed when asked (a viscosity spans decades).
- `ssl_condition`: the frozen encoder's representation of the trajectory's context
  window, built exactly like the pretraining inputs (`make_view`: coordinate channels
  $(t, x, u)$ with the encoder's `ChannelScales`, here with the identity augmentation,
  as the online probe does), averaged over spatial crops of the pretraining width.
- `Standardiser`: per-feature mean and standard deviation of the training set.
"""

import dataclasses
import tomllib

import equinox as eqx
import jax
import numpy as np
import xarray as xr

from pdessl import symmetries
from pdessl.models import batched
from pdessl.training import ChannelScales, make_view


def default_parameters(ds: xr.Dataset) -> tuple[str, ...]:
    """The physical parameters the file's recipe draws per sample (its
    `[parameters]` table, e.g. `("nu",)` for Burgers)."""
    recipe = tomllib.loads(str(ds.attrs.get("recipe", "")))
    names = tuple(recipe.get("parameters", {}))
    if not names:
        raise ValueError(
            "the data file's recipe draws no physical parameters; name the per-sample "
            f"variables to condition on (one of {_per_sample(ds)})."
        )
    return names


def _per_sample(ds: xr.Dataset) -> list[str]:
    return sorted(str(v) for v in ds.data_vars if ds[v].dims == ("sample",))


def parameter_condition(
    ds: xr.Dataset, names: tuple[str, ...], *, log: bool = True
) -> np.ndarray:
    """`(sample, len(names))` float64 values of per-sample variables; with `log=True`
    their logarithms (every value must then be positive)."""
    if not names:
        raise ValueError("give at least one parameter name.")
    columns = []
    for name in names:
        if name not in ds or ds[name].dims != ("sample",):
            raise ValueError(
                f"{name!r} is not a per-sample variable of the data; it has "
                f"{_per_sample(ds)}."
            )
        values = np.asarray(ds[name].values, dtype=np.float64)
        if log:
            if np.any(values <= 0):
                raise ValueError(
                    f"parameter {name!r} has non-positive values; its logarithm is "
                    "undefined (turn the log transform off)."
                )
            values = np.log(values)
        columns.append(values)
    return np.stack(columns, axis=1)


def _check_encoder_fits(ds: xr.Dataset, encoder, header: dict, time_window: int):
    pde = str(ds.attrs.get("pde", ""))
    if header.get("pde") != pde:
        raise ValueError(
            f"the encoder was pretrained on {header.get('pde')!r} data, the file holds "
            f"{pde!r}."
        )
    if ds.u.ndim != 3 or encoder.stem.in_channels != 3:
        raise ValueError(
            "ssl conditioning handles 1-D fields and encoders of (t, x, u) inputs; got "
            f"field dims {ds.u.dims} and {encoder.stem.in_channels} input channels."
        )
    if ds.sizes["x"] < header["crop_space"]:
        raise ValueError(
            f"the encoder saw crops {header['crop_space']} points wide, the data have "
            f"only {ds.sizes['x']}."
        )
    if time_window > ds.sizes["time"]:
        raise ValueError(f"the context window {time_window} exceeds the trajectories.")


def ssl_condition(
    ds: xr.Dataset,
    encoder,
    state: eqx.nn.State,
    header: dict,
    time_window: int,
    *,
    batch_size: int = 64,
) -> np.ndarray:
    """`(sample, dim)` representations of each trajectory's first `time_window`
    frames. The window is cut into `x // crop_space` side-by-side crops of the
    pretraining width, each encoded as a pretraining view without augmentation; the
    representations are averaged over the crops."""
    _check_encoder_fits(ds, encoder, header, time_window)
    scales = ChannelScales(**header["scales"])
    width = header["crop_space"]
    nx = ds.sizes["x"]
    u = np.asarray(ds.u.values[:, :time_window], dtype=np.float32)
    encoder = eqx.nn.inference_mode(encoder)
    t0, dt, dx, length = (np.asarray(ds[v].values) for v in ("t0", "dt", "dx", "L"))
    identity = symmetries.identity_augmentation()

    # The encoder and its state are closed over (constants of the compiled function):
    # passed as jit arguments, the inference-mode BatchNorm returned float64 features
    # under x64 (equinox 0.13.8; its state holds an int64 counter), which the next
    # float32 convolution rejects.
    @eqx.filter_jit
    def encode(u, t0, dt, dx, length):
        views = jax.vmap(make_view, in_axes=(None, None, 0, 0, 0, 0, 0, None))(
            identity, jax.random.key(0), u, t0, dt, dx, length, scales
        )
        h, _ = batched(encoder, state, views)
        return h

    reps = []
    for offset in range(0, nx - width + 1, width):
        crop = u[:, :, offset : offset + width]
        parts = [
            encode(
                crop[i : i + batch_size],
                t0[i : i + batch_size],
                dt[i : i + batch_size],
                dx[i : i + batch_size],
                length[i : i + batch_size],
            )
            for i in range(0, len(u), batch_size)
        ]
        reps.append(np.concatenate([np.asarray(p) for p in parts]))
    return np.mean(reps, axis=0)


@dataclasses.dataclass(frozen=True)
class Standardiser:
    """Subtract the training mean, divide by the training standard deviation (1 where
    a feature is constant)."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray) -> "Standardiser":
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 2:
            raise ValueError(f"expected (sample, feature) values, got {values.shape}.")
        std = values.std(axis=0)
        return cls(values.mean(axis=0), np.where(std > 0, std, 1.0))

    def __call__(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != self.mean.shape[0]:
            raise ValueError(
                f"expected (sample, {self.mean.shape[0]}) values, got {values.shape}."
            )
        return ((values - self.mean) / self.std).astype(np.float32)
