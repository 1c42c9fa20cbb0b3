"""One VICReg pretraining step on PDE crops, as a single jitted function.

Two views of every crop are drawn on device: the crop's grid points are moved by a
random element of the PDE's symmetry group (`Augmentation`, coordinate-channel mode:
exact, no interpolation) and stacked as channels — $(t, x, u)$ for 1-D PDEs, a
space-time image; $(x, y, t, v_x, v_y)$ per frame for Navier–Stokes, frames stacked as
channels (the official recipe) — both views go through the encoder and projector and
the VICReg loss. The step key is `fold_in(key, step)`.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from pdessl.models import Projector, ResNet
from pdessl.symmetries import Augmentation, grid_points
from pdessl.vicreg import vicreg_loss


class SSLModel(eqx.Module):
    encoder: ResNet
    projector: Projector


class ChannelScales(eqx.Module):
    """Fixed input normalisation: coordinates are centred per view and divided by a
    typical extent (`x` for both space axes in 2-D); the field (the velocity
    components in 2-D) by its dataset standard deviation."""

    t: float = eqx.field(static=True)
    x: float = eqx.field(static=True)
    u: float = eqx.field(static=True)


def make_view(
    aug: Augmentation,
    key: PRNGKeyArray,
    u: Float[ArrayLike, "time x"],
    t0,
    dt,
    dx,
    length,
    scales: ChannelScales,
) -> Float[Array, "3 time x"]:
    """One augmented view of one crop as float32 channels (t, x, u)."""
    points = aug.apply(aug.sample(key), grid_points(jnp.asarray(u), t0, dt, dx, length))
    t = (points["t"] - jnp.mean(points["t"])) / scales.t
    x = (points["x"] - jnp.mean(points["x"])) / scales.x
    return jnp.stack([t, x, points["u"] / scales.u]).astype(jnp.float32)


def make_view_2d(
    aug: Augmentation,
    key: PRNGKeyArray,
    vx: Float[ArrayLike, "time x y"],
    vy: Float[ArrayLike, "time x y"],
    t0,
    dt,
    dx,
    dy,
    lengths: tuple,
    scales: ChannelScales,
) -> Float[Array, "time*5 x y"]:
    """One augmented view of one Navier–Stokes crop: channels $(x, y, t, v_x, v_y)$
    per frame, frames stacked (float32). `lengths` are the periodic domain's
    $(L_x, L_y)$, for the space shifts."""
    vx, vy = jnp.asarray(vx), jnp.asarray(vy)
    nt, nx, ny = vx.shape
    t, x, y = jnp.meshgrid(
        t0 + dt * jnp.arange(nt),
        dx * jnp.arange(nx),
        dy * jnp.arange(ny),
        indexing="ij",
    )
    points = {"t": t, "x": x, "y": y, "vx": vx, "vy": vy}
    points = aug.apply(aug.sample(key), dict(points, Lx=lengths[0], Ly=lengths[1]))

    def centred(c, scale):
        return (points[c] - jnp.mean(points[c])) / scale

    channels = jnp.stack(
        [
            centred("x", scales.x),
            centred("y", scales.x),
            centred("t", scales.t),
            points["vx"] / scales.u,
            points["vy"] / scales.u,
        ],
        axis=1,
    )
    return channels.reshape(nt * 5, nx, ny).astype(jnp.float32)


def batch_views(aug: Augmentation, keys, batch: dict, scales: ChannelScales):
    """`make_view` (or `make_view_2d` when the batch holds `vx`, `vy`) over a batch
    from `CropLoader`, one key per sample. 2-D batches need `Lx`, `Ly`."""
    if "vx" in batch:
        return jax.vmap(
            make_view_2d, in_axes=(None, 0, 0, 0, 0, 0, 0, 0, (0, 0), None)
        )(
            aug,
            keys,
            batch["vx"],
            batch["vy"],
            batch["t0"],
            batch["dt"],
            batch["dx"],
            batch["dy"],
            (batch["Lx"], batch["Ly"]),
            scales,
        )
    return jax.vmap(make_view, in_axes=(None, 0, 0, 0, 0, 0, 0, None))(
        aug, keys, batch["u"], batch["t0"], batch["dt"], batch["dx"], batch["L"], scales
    )


def _batched(module, state, x):
    return jax.vmap(module, axis_name="batch", in_axes=(0, None), out_axes=(0, None))(
        x, state
    )


def vicreg_step_loss(
    model: SSLModel, state, x1, x2, coeffs: tuple[float, float, float]
):
    h1, state = _batched(model.encoder, state, x1)
    h2, state = _batched(model.encoder, state, x2)
    z1, state = _batched(model.projector, state, h1)
    z2, state = _batched(model.projector, state, h2)
    sim, std, cov = coeffs
    loss, terms = vicreg_loss(
        z1.astype(jnp.float32),
        z2.astype(jnp.float32),
        sim_coeff=sim,
        std_coeff=std,
        cov_coeff=cov,
    )
    return loss, (state, terms, h1)


def train_step(inputs: tuple, model: SSLModel, state: eqx.nn.State, opt_state):
    """`inputs = ((aug, optimizer, scales, coeffs), batch, key, step)` is kept; the
    model, BatchNorm state and optimiser state are donated (updated in place).
    Returns the new `(model, state, opt_state)` and a dict of metrics.

    The step number is turned into an array here: as a Python int it would be a
    static argument and every step would recompile."""
    static, batch, key, step = inputs
    inputs = (static, batch, key, jnp.asarray(step, dtype=jnp.int32))
    return _train_step(inputs, model, state, opt_state)


@eqx.filter_jit(donate="all-except-first")
def _train_step(
    inputs: tuple,
    model: SSLModel,
    state: eqx.nn.State,
    opt_state,
):
    static, batch, key, step = inputs
    aug, optimizer, scales, coeffs = static
    n = batch["t0"].shape[0]
    keys = jax.random.split(jax.random.fold_in(key, step), 2 * n)
    x1 = batch_views(aug, keys[:n], batch, scales)
    x2 = batch_views(aug, keys[n:], batch, scales)
    params, static_model = eqx.partition(model, eqx.is_inexact_array)

    def loss_fn(params, state):
        return vicreg_step_loss(
            eqx.combine(params, static_model), state, x1, x2, coeffs
        )

    (loss, (state, terms, h)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
        params, state
    )
    updates, opt_state = optimizer.update(grads, opt_state, params)
    model = eqx.combine(optax.apply_updates(params, updates), static_model)
    metrics = dict(loss=loss, **terms, repr_std=jnp.mean(jnp.std(h, axis=0)))
    return model, state, opt_state, metrics
