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
decoder's own floor); and persistence (the context crop itself).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import xarray as xr
from jaxtyping import Array, Float, PRNGKeyArray

from pdessl import datasets, symmetries
from pdessl.embedding import Encoder
from pdessl.training import batch_views, latent_rollout


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
    encoder: Encoder, ds: xr.Dataset, delta: int, steps: int
) -> Float[Array, "k n 3 time x"]:
    """The unaugmented views of each trajectory's crops at frames $k\\Delta$,
    $k = 0..$`steps` (first `crop_space` points), `(steps + 1, n, 3, time, x)`."""
    _check_1d(encoder)
    frames = encoder.crop_time + steps * delta
    if frames > ds.sizes["time"]:
        raise ValueError(
            f"{steps} steps of {delta} frames after a {encoder.crop_time}-frame "
            f"context need {frames} frames; the data hold {ds.sizes['time']}."
        )
    u = np.asarray(ds.u.values, np.float32)
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


def rollout_errors(
    encoder: Encoder, predictor, decoder: CropDecoder, data, *, delta: int, steps: int
) -> dict:
    """Mean NMSE per rollout step (module docstring) over the trajectories of
    `data`: `rollout`, `decoder_floor`, `persistence`, each a list over steps, and
    the decoded rollouts for figures."""
    ds = data if isinstance(data, xr.Dataset) else datasets.open_dataset(data)
    views = rollout_crops(encoder, ds, delta, steps)
    h0 = _encode(encoder, views[0])
    h_roll = jax.vmap(lambda h: latent_rollout(predictor, h, delta, steps))(h0)
    decoded = jax.vmap(jax.vmap(decoder))(h_roll)  # (n, steps, time, x)
    true = views[1:, :, 2]  # (steps, n, time, x)
    floor = jnp.stack([jax.vmap(decoder)(_encode(encoder, v)) for v in views[1:]])
    result = dict(rollout=[], decoder_floor=[], persistence=[])
    for k in range(steps):
        result["rollout"].append(float(np.mean(_nmse(decoded[:, k], true[k]))))
        result["decoder_floor"].append(float(np.mean(_nmse(floor[k], true[k]))))
        result["persistence"].append(float(np.mean(_nmse(views[0][:, 2], true[k]))))
    result["frames_ahead"] = [delta * (k + 1) for k in range(steps)]
    result["arrays"] = dict(
        context=np.asarray(views[0][:, 2]),
        true=np.asarray(jnp.moveaxis(true, 0, 1)),
        decoded=np.asarray(decoded),
    )
    return result
