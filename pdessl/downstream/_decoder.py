r"""A decoder on a frozen encoder, to look at and measure latent rollouts.

JEPA never reconstructs inputs; as video JEPAs do, a decoder is trained *afterwards*
on the frozen encoder, mapping a representation $h = f(x)$ back to the field channel
of its crop $x$ (in the encoder's input scaling: with `field_scaling = "view"` the
crop standardised by its own mean and std, which is all such a representation can
know). It is used only to read latent rollouts (`pdessl.training` JEPA predictor
applied repeatedly), never to train the encoder.

`rollout_errors` compares, at each rollout step $k$ (offset $k\Delta$ frames from a
context crop at the start of a trajectory), the NMSE against the true crop of:
the decoded latent rollout; the decoded representation of the true crop (the
decoder's own floor); and persistence (the context crop itself). Given other
forecasts of the whole field (`trajectories`, e.g. a conditioned time-stepper's
rollout filled in by `stepper_trajectories`), it scores them on the same crops.

Why the comparison is made on per-crop standardised crops: with
`field_scaling = "view"` the encoder sees each crop divided by its own mean and
standard deviation, so neither the representation nor the latent rollout can know
where a crop's level and amplitude lie; the decoder is trained on, and can only
produce, the standardised crop. A time-stepper does predict the raw field; to ask
both the same question, its forecast is cut at the same crop windows and put
through the very same view construction (`rollout_crops` on the forecast field)
before comparing with the true standardised crop. Its NMSE on the raw crop windows
is reported beside, for reference. The metric is, per crop, $\|p - t\|^2/\|t\|^2$
(after standardisation $\|t\|^2$ is the crop's size, so predicting zeros scores
1), averaged over trajectories.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import xarray as xr
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from pdessl import datasets, symmetries
from pdessl.embedding import Encoder
from pdessl.training import batch_views, latent_rollout

from ._stepper import rollout as stepper_rollout


class CropDecoder(eqx.Module):
    """MLP from a representation to a `(crop_time, crop_space)` field crop."""

    mlp: eqx.nn.MLP
    shape: tuple[int, int] = eqx.field(static=True)

    def __init__(self, dim: int, shape, width: int = 512, *, key: PRNGKeyArray):
        self.shape = tuple(int(s) for s in shape)
        self.mlp = eqx.nn.MLP(
            dim,
            self.shape[0] * self.shape[1],
            width,
            2,
            activation=jax.nn.gelu,
            dtype=jnp.float32,
            key=key,
        )

    def __call__(self, h: Float[Array, " dim"]) -> Float[Array, "time x"]:
        return self.mlp(h.astype(jnp.float32)).reshape(self.shape)


def _check_1d(encoder: Encoder):
    if encoder.descriptor.ndim == 2:
        raise ValueError("the crop decoder handles 1-D PDE encoders (field u) only.")


def _encode(encoder: Encoder, views) -> jax.Array:
    net = jax.vmap(lambda v: encoder.network(v, encoder.state)[0])
    return jnp.concatenate([net(views[i : i + 256]) for i in range(0, len(views), 256)])


def _views(encoder: Encoder, batch: dict, seed: int = 0):
    keys = jax.random.split(jax.random.key(seed), len(batch["t0"]))
    batch = {k: jnp.asarray(v) for k, v in batch.items()}
    return batch_views(symmetries.identity_augmentation(), keys, batch, encoder.scales)


def fit_decoder(
    encoder: Encoder,
    data,
    *,
    epochs: int = 8,
    steps: int = 3000,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    seed: int = 0,
    progress=print,
) -> CropDecoder:
    """A `CropDecoder` fitted (Adam, MSE) on representations of unaugmented random
    crops of `data` (one crop per trajectory per epoch, `epochs` epochs), the
    encoder frozen."""
    _check_1d(encoder)
    ds = data if isinstance(data, xr.Dataset) else datasets.open_dataset(data)
    loader = datasets.CropLoader(
        ds,
        batch_size=ds.sizes["sample"],
        crop_time=encoder.crop_time,
        crop_space=encoder.crop_space,
        seed=seed,
        variables=("L",),
    )
    h, y = [], []
    for epoch in range(epochs):
        views = _views(encoder, next(iter(loader.epoch(epoch))), seed + epoch)
        h.append(_encode(encoder, views))
        y.append(views[:, 2])  # the field channel, in the encoder's input scaling
    h, y = jnp.concatenate(h), jnp.concatenate(y)
    decoder = CropDecoder(h.shape[1], y.shape[1:], key=jax.random.key(seed))
    optimizer = optax.adam(optax.cosine_decay_schedule(learning_rate, steps))
    opt_state = optimizer.init(eqx.filter(decoder, eqx.is_inexact_array))

    @eqx.filter_jit
    def step(decoder, opt_state, key):
        idx = jax.random.randint(key, (batch_size,), 0, len(h))

        def loss(d):
            return jnp.mean((jax.vmap(d)(h[idx]) - y[idx]) ** 2)

        value, grads = eqx.filter_value_and_grad(loss)(decoder)
        updates, opt_state = optimizer.update(grads, opt_state, decoder)
        return eqx.apply_updates(decoder, updates), opt_state, value

    key = jax.random.key(seed + 1)
    for i in range(steps):
        decoder, opt_state, value = step(decoder, opt_state, jax.random.fold_in(key, i))
        if (i + 1) % 1000 == 0:
            progress(f"decoder step {i + 1}: mse {float(value):.4f}")
    return decoder


def _nmse(pred, true) -> np.ndarray:
    """Per crop: $\\|p - t\\|^2 / \\|t\\|^2$."""
    pred, true = np.asarray(pred, np.float64), np.asarray(true, np.float64)
    return np.sum((pred - true) ** 2, axis=(-2, -1)) / np.sum(true**2, axis=(-2, -1))


def rollout_crops(
    encoder: Encoder, ds: xr.Dataset, delta: int, steps: int, u=None
) -> Float[Array, "k n 3 time x"]:
    """The unaugmented views of each trajectory's crops at frames $k\\Delta$,
    $k = 0..$`steps` (first `crop_space` points), `(steps + 1, n, 3, time, x)`.
    With `u` (the shape of `ds.u`) the crops are cut from that field instead, with
    `ds`'s coordinates: a forecast goes through exactly the true crops' scaling."""
    _check_1d(encoder)
    frames = encoder.crop_time + steps * delta
    if frames > ds.sizes["time"]:
        raise ValueError(
            f"{steps} steps of {delta} frames after a {encoder.crop_time}-frame "
            f"context need {frames} frames; the data hold {ds.sizes['time']}."
        )
    if u is None:
        u = ds.u.values
    elif np.shape(u) != ds.u.shape:
        raise ValueError(f"u has shape {np.shape(u)}, the data {ds.u.shape}.")
    u = np.asarray(u, np.float32)
    out = []
    for k in range(steps + 1):
        s = k * delta
        batch = dict(
            u=u[:, s : s + encoder.crop_time, : encoder.crop_space],
            t0=ds.t0.values + s * ds.dt.values,
            dt=ds.dt.values,
            dx=ds.dx.values,
            L=ds.L.values,
        )
        out.append(_views(encoder, batch))
    return jnp.stack(out)


def stepper_trajectories(
    model,
    u: Float[ArrayLike, "sample time x"],
    cond: Float[ArrayLike, "sample cond"] | None,
    *,
    context: int,
    time_window: int,
    scale: float = 1.0,
    batch_size: int = 64,
) -> np.ndarray:
    """`u` with every frame from `context` on replaced by the time-stepper's
    autoregressive rollout (`pdessl.downstream.rollout`) from the `time_window`
    frames just before `context`; the first `context` frames stay true. With
    `context` the encoder's `crop_time`, the stepper starts from the last frames of
    the JEPA context crop, so neither forecast sees a frame after the context. The
    model works on `u / scale` (its training normalisation); the result is in the
    units of `u`. `model` is any `(window[, cond]) -> next window` callable."""
    u = np.asarray(u, np.float32)
    if not time_window <= context < u.shape[1]:
        raise ValueError(
            f"the context ({context} frames) must hold a time window ({time_window}) "
            f"and leave frames to predict (the data have {u.shape[1]})."
        )
    future = u.shape[1] - context
    windows = jnp.asarray(u[:, context - time_window : context] / scale)

    @eqx.filter_jit
    def roll(w, c):
        if c is None:
            return jax.vmap(lambda wi: stepper_rollout(model, wi, None, future))(w)
        return jax.vmap(lambda wi, ci: stepper_rollout(model, wi, ci, future))(w, c)

    parts = []
    for i in range(0, len(u), batch_size):
        c = None if cond is None else jnp.asarray(cond[i : i + batch_size], jnp.float32)
        parts.append(np.asarray(roll(windows[i : i + batch_size], c)))
    out = u.copy()
    out[:, context:] = np.concatenate(parts) * scale
    return out


def rollout_errors(
    encoder: Encoder,
    predictor,
    decoder: CropDecoder,
    data,
    *,
    delta: int,
    steps: int,
    trajectories: dict | None = None,
) -> dict:
    """Mean NMSE per rollout step (module docstring) over the trajectories of
    `data`: `rollout`, `decoder_floor`, `persistence`, each a list over steps, and
    the decoded rollouts for figures. `trajectories` maps names to forecasts of the
    whole field `u` (the shape of `data`'s): each is cut into the same crops and
    standardised like them, and adds `name` (NMSE of the standardised crops) and
    `name_raw` (NMSE of the unscaled crop windows against the true ones)."""
    ds = data if isinstance(data, xr.Dataset) else datasets.open_dataset(data)
    trajectories = trajectories or {}
    clash = {"rollout", "decoder_floor", "persistence"} & set(trajectories)
    if clash:
        raise ValueError(f"trajectory names {sorted(clash)} are taken.")
    views = rollout_crops(encoder, ds, delta, steps)
    h0 = _encode(encoder, views[0])
    h_roll = jax.vmap(lambda h: latent_rollout(predictor, h, delta, steps))(h0)
    decoded = jax.vmap(jax.vmap(decoder))(h_roll)  # (n, steps, time, x)
    true = views[1:, :, 2]  # (steps, n, time, x)
    floor = jnp.stack([jax.vmap(decoder)(_encode(encoder, v)) for v in views[1:]])
    result = dict(rollout=[], decoder_floor=[], persistence=[])
    ct, cs = encoder.crop_time, encoder.crop_space
    u_true = np.asarray(ds.u.values, np.float32)
    other = {}
    for name, u in trajectories.items():
        other[name] = rollout_crops(encoder, ds, delta, steps, u=u)[1:, :, 2]
        result[name], result[f"{name}_raw"] = [], []
    for k in range(steps):
        result["rollout"].append(float(np.mean(_nmse(decoded[:, k], true[k]))))
        result["decoder_floor"].append(float(np.mean(_nmse(floor[k], true[k]))))
        result["persistence"].append(float(np.mean(_nmse(views[0][:, 2], true[k]))))
        window = (slice(None), slice((k + 1) * delta, (k + 1) * delta + ct))
        window += (slice(0, cs),)
        for name, u in trajectories.items():
            result[name].append(float(np.mean(_nmse(other[name][k], true[k]))))
            raw = _nmse(np.asarray(u)[window], u_true[window])
            result[f"{name}_raw"].append(float(np.mean(raw)))
    result["frames_ahead"] = [delta * (k + 1) for k in range(steps)]
    result["arrays"] = dict(
        context=np.asarray(views[0][:, 2]),
        true=np.asarray(jnp.moveaxis(true, 0, 1)),
        decoded=np.asarray(decoded),
        **{name: np.asarray(jnp.moveaxis(c, 0, 1)) for name, c in other.items()},
    )
    return result
