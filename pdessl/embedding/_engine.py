"""The embedding engine: tiles of trajectories turned into unaugmented encoder
inputs, batched through the network; grid and value checks; resampling onto the
encoder's grid."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from pdessl import symmetries
from pdessl.models import batched
from pdessl.training import make_view, make_view_2d

from ._encoder import GRID_FACTOR, Encoder

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
    h, _ = batched(network, state, views.reshape(n * k, *views.shape[2:]))
    return jnp.mean(h.reshape(n, k, -1), axis=1)


def embed_batches(network, state, scales, arrays: dict, crop_shape, crops, size):
    """`_embed_batch` over chunks of `size` samples of NumPy `arrays`."""
    field = arrays["vx"] if "vx" in arrays else arrays["u"]
    offsets = _tile_offsets(field.shape[1:], crop_shape, crops)
    out = []
    for i in range(0, len(field), size):
        chunk = {k: jnp.asarray(v[i : i + size]) for k, v in arrays.items()}
        out.append(_embed_batch(network, state, scales, chunk, offsets, crop_shape))
    return np.asarray(jnp.concatenate(out), dtype=np.float32)


def check_trajectories(
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


def resample_to_encoder(encoder: Encoder, u: np.ndarray, dt, dx, t0, tolerance):
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
