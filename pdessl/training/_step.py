"""One VICReg pretraining step on PDE crops, as a single jitted function.

Two views of every sample are drawn on device, each from its own random space-time
crop of the trajectory (the loader's `views=2`; as in the official code, where each
view transforms the trajectory and crops it independently): the crop's grid points
are moved by a random element of the PDE's symmetry group (`Augmentation`, coordinate-channel mode:
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

from pdessl.models import Projector, ResNet, batched
from pdessl.symmetries import Augmentation, grid_points
from pdessl.vicreg import vicreg_loss


class SSLModel(eqx.Module):
    encoder: ResNet
    projector: Projector


class ChannelScales(eqx.Module):
    """Fixed input normalisation of a view's channels.

    Coordinates are divided by a typical extent (`x` for both space axes in 2-D);
    the field (the velocity components in 2-D) by its dataset standard deviation.
    With `centred=False` (the default of new pretraining runs) the coordinates are
    offset by fixed references `t_ref`, `x_ref` (dataset constants), as the official
    code feeds raw coordinates: a time or space shift, a boost or a crop's start time
    then show as an offset of the coordinate channel. `centred=True` subtracts each
    view's own mean instead, which erases shifts (encoders exported before this
    option existed were trained that way, hence the default here).

    `field_per_view=True` (an option beyond the paper) standardises the field of
    each view by its own mean and standard deviation (jointly over both velocity
    components in 2-D) instead of dividing by the dataset's: the input is then
    invariant to the amplitude and offset of the field, which otherwise dominate the
    representation of decaying flows."""

    t: float = eqx.field(static=True)
    x: float = eqx.field(static=True)
    u: float = eqx.field(static=True)
    t_ref: float = eqx.field(static=True, default=0.0)
    x_ref: float = eqx.field(static=True, default=0.0)
    centred: bool = eqx.field(static=True, default=True)
    field_per_view: bool = eqx.field(static=True, default=False)

    def coordinate(self, values, axis: str):
        """A coordinate channel: `axis` is "t" or "x" (also used for "y")."""
        scale, ref = (self.t, self.t_ref) if axis == "t" else (self.x, self.x_ref)
        ref = jnp.mean(values) if self.centred else ref
        return (values - ref) / scale

    def fields(self, *values):
        """The field channels (`u`, or `vx`, `vy`), scaled."""
        if not self.field_per_view:
            return tuple(v / self.u for v in values)
        stacked = jnp.stack(values)
        mean = jnp.mean(stacked)
        std = jnp.sqrt(jnp.mean((stacked - mean) ** 2)) + 1e-6 * self.u
        return tuple((v - mean) / std for v in values)


def make_view(
    aug: Augmentation,
    key: PRNGKeyArray,
    u: Float[ArrayLike, "time x"],
    t0,
    dt,
    dx,
    length,
    scales: ChannelScales,
    params: dict | None = None,
) -> Float[Array, "3 time x"]:
    """One augmented view of one crop as float32 channels (t, x, u). `params` holds
    the per-sample values the generators need (`aug.needs`), if any."""
    points = grid_points(jnp.asarray(u), t0, dt, dx, length)
    points = aug.apply(aug.sample(key), dict(points, **(params or {})))
    t = scales.coordinate(points["t"], "t")
    x = scales.coordinate(points["x"], "x")
    (u,) = scales.fields(points["u"])
    return jnp.stack([t, x, u]).astype(jnp.float32)


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
        t0 + dt * jnp.arange(nt, dtype=jnp.result_type(dt)),
        dx * jnp.arange(nx, dtype=jnp.result_type(dx)),
        dy * jnp.arange(ny, dtype=jnp.result_type(dy)),
        indexing="ij",
    )
    points = {"t": t, "x": x, "y": y, "vx": vx, "vy": vy}
    points = aug.apply(aug.sample(key), dict(points, Lx=lengths[0], Ly=lengths[1]))

    vx, vy = scales.fields(points["vx"], points["vy"])
    channels = jnp.stack(
        [
            scales.coordinate(points["x"], "x"),
            scales.coordinate(points["y"], "x"),
            scales.coordinate(points["t"], "t"),
            vx,
            vy,
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
    params = {name: batch[name] for name in aug.needs}
    return jax.vmap(make_view, in_axes=(None, 0, 0, 0, 0, 0, 0, None, 0))(
        aug,
        keys,
        batch["u"],
        batch["t0"],
        batch["dt"],
        batch["dx"],
        batch["L"],
        scales,
        params,
    )


def second_view(batch: dict) -> dict:
    """The batch as seen by the second view: its own crops (`u_2`, or `vx_2`,
    `vy_2`, and `t0_2`) when the loader drew independent ones (`views=2`), else the
    same crops (the same-crop ablation)."""
    out = dict(batch)
    for name in ("u", "vx", "vy", "t0"):
        if f"{name}_2" in batch:
            out[name] = batch[f"{name}_2"]
    return out


def vicreg_step_loss(
    model: SSLModel, state, x1, x2, coeffs: tuple[float, float, float]
):
    # The per-sample modules vmapped over a named batch axis. The batch-level
    # channels-last passes (models.encode_batch, project_batch) agree to float32
    # round-off per step and are 1.15-1.34x faster on CPU, but over 3,000 steps they
    # lead to another encoder (quick start, one pretraining draw: linear probe
    # 0.026 vs 0.020): they become the default once several pretraining seeds show
    # the two give the same result (experiments/benchmarks/README.md).
    h1, state = batched(model.encoder, state, x1)
    h2, state = batched(model.encoder, state, x2)
    z1, state = batched(model.projector, state, h1)
    z2, state = batched(model.projector, state, h2)
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
    x2 = batch_views(aug, keys[n:], second_view(batch), scales)
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
