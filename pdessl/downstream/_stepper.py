"""Training, rolling out and scoring one neural time-stepper."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from pdessl.models import TimeStepper1d, UNet2d
from pdessl.progress import start_bar
from pdessl.training import warmup_cosine

from ._timestep_config import TimestepConfig


def check_frames(num_frames: int, time_window: int) -> None:
    """A trajectory needs $2 t_w$ frames: one window in, one window out."""
    if num_frames < 2 * time_window:
        raise ValueError(
            f"trajectories have {num_frames} frames, fewer than 2 x time_window = "
            f"{2 * time_window} (a window in and a window out); lower the time window."
        )


def make_timestepper(
    config: TimestepConfig,
    cond_dim: int,
    *,
    key,
    fields: int | None = None,
    periodic: bool = True,
):
    """`TimeStepper1d` for 1-D fields; with `fields` (2-D data: frames of `fields`
    channels) a `UNet2d` of widths (width, 2 width), circular padding when periodic,
    zeros for a walled box."""
    if fields is not None:
        return UNet2d(
            config.time_window,
            fields,
            widths=(config.width, 2 * config.width),
            cond_dim=cond_dim,
            embed_dim=config.embed_dim,
            film=config.film,
            padding_mode="CIRCULAR" if periodic else "ZEROS",
            key=key,
        )
    return TimeStepper1d(
        config.time_window,
        width=config.width,
        depth=config.depth,
        kernel=config.kernel,
        cond_dim=cond_dim,
        embed_dim=config.embed_dim,
        film=config.film,
        key=key,
    )


def _apply(model, window, cond):
    return model(window) if cond is None else model(window, cond)


def _sample_pairs(key, u, time_window: int, batch_size: int):
    """Random (trajectory, start time) pairs: input frames [s, s + tw), target frames
    [s + tw, s + 2 tw)."""
    n, frames = u.shape[:2]
    k1, k2 = jax.random.split(key)
    idx = jax.random.randint(k1, (batch_size,), 0, n)
    start = jax.random.randint(k2, (batch_size,), 0, frames - 2 * time_window + 1)

    def one(i, s):
        w = jax.lax.dynamic_slice_in_dim(u[i], s, 2 * time_window, axis=0)
        return w[:time_window], w[time_window:]

    x, y = jax.vmap(one)(idx, start)
    return idx, x, y


def _optimizer(config: TimestepConfig) -> optax.GradientTransformation:
    """Adam with linear warmup and cosine decay; built from the (hashable) config
    inside the jitted step too, so runs with the same config share one compilation."""
    schedule = warmup_cosine(config.learning_rate, config.warmup_steps, config.steps)
    return optax.adam(schedule)


@eqx.filter_jit(donate="all-except-first")
def _train_step(data, model, opt_state, step):
    config, u, cond, key = data
    idx, x, y = _sample_pairs(
        jax.random.fold_in(key, step), u, config.time_window, config.batch_size
    )
    c = None if cond is None else cond[idx]
    params, rest = eqx.partition(model, eqx.is_inexact_array)

    def loss_fn(params):
        net = eqx.combine(params, rest)
        pred = jax.vmap(lambda w, ci: _apply(net, w, ci))(x, c)
        return jnp.mean((pred - y) ** 2)

    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = _optimizer(config).update(grads, opt_state, params)
    return eqx.combine(optax.apply_updates(params, updates), rest), opt_state, loss


def train_timestepper(
    model: TimeStepper1d | UNet2d,
    u: Float[ArrayLike, "sample time ..."],
    cond: Float[ArrayLike, "sample cond"] | None,
    config: TimestepConfig,
    *,
    key: PRNGKeyArray,
) -> tuple[TimeStepper1d | UNet2d, np.ndarray]:
    """Train on random (window in, window out) pairs with Adam and a warmup-cosine
    schedule, one jitted step. `u` should be normalised (order-one values); `cond` is
    one vector per trajectory, or None for an unconditioned model. Returns the model
    and the loss of every step."""
    u = jnp.asarray(u, dtype=jnp.float32)
    if u.ndim not in (3, 5):
        raise ValueError(
            f"u must be (sample, time, x) or (sample, time, field, x, y), got shape "
            f"{u.shape}."
        )
    check_frames(u.shape[1], model.time_window)
    if (cond is None) != (model.cond_dim == 0):
        raise ValueError(
            f"the model has cond_dim={model.cond_dim} but cond is "
            f"{'None' if cond is None else 'given'}."
        )
    if cond is not None:
        cond = jnp.asarray(cond, dtype=jnp.float32)
        if cond.shape != (u.shape[0], model.cond_dim):
            raise ValueError(
                f"cond must be (sample, {model.cond_dim}) = ({u.shape[0]}, "
                f"{model.cond_dim}), got {cond.shape}."
            )
    if model.time_window != config.time_window:
        raise ValueError(
            f"the model's time window {model.time_window} differs from the config's "
            f"{config.time_window}."
        )
    opt_state = _optimizer(config).init(eqx.filter(model, eqx.is_inexact_array))
    data = (config, u, cond, key)
    losses = []
    bar = start_bar(config.steps, desc="time-stepper")
    for step in range(config.steps):
        model, opt_state, loss = _train_step(
            data, model, opt_state, jnp.asarray(step, dtype=jnp.int32)
        )
        losses.append(loss)
        bar.update(loss=loss)
    bar.close()
    losses = np.asarray(jnp.stack(losses))
    if not np.all(np.isfinite(losses)):
        bad = int(np.argmin(np.isfinite(losses)))
        raise FloatingPointError(
            f"non-finite time-stepper loss from step {bad}; lower the learning rate."
        )
    return model, losses


def rollout(
    model, u0: Float[ArrayLike, "tw ..."], cond, num_frames: int
) -> Float[Array, "frames ..."]:
    """Autoregressive rollout: `num_frames` frames after the window `u0`, predicted
    chunk by chunk from the model's own previous chunk (the last chunk is cut to
    length)."""
    u0 = jnp.asarray(u0, dtype=jnp.float32)
    tw = u0.shape[0]
    chunks = math.ceil(num_frames / tw)

    def step(window, _):
        nxt = _apply(model, window, cond)
        return nxt, nxt

    _, out = jax.lax.scan(step, u0, length=chunks)
    return out.reshape(chunks * tw, *u0.shape[1:])[:num_frames]


def teacher_forced(
    model, u: Float[ArrayLike, "time ..."], cond, time_window: int
) -> Float[Array, "frames ..."]:
    """Frames `time_window` to the end, each chunk predicted from the *true* previous
    window (the one-step error on the rollout's frames)."""
    u = jnp.asarray(u, dtype=jnp.float32)
    frames, rest = u.shape[0], u.shape[1:]
    num = frames - time_window
    chunks = math.ceil(num / time_window)
    windows = u[: chunks * time_window].reshape(chunks, time_window, *rest)
    out = jax.vmap(lambda w: _apply(model, w, cond))(windows)
    return out.reshape(chunks * time_window, *rest)[:num]


def _nmse(pred, true):
    """Per trajectory $\\|\\hat u - u\\|^2 / \\|u\\|^2$ over all frames."""
    return jnp.sum((pred - true) ** 2) / jnp.sum(true**2)


@eqx.filter_jit
def _evaluate(model, u, cond, time_window: int):
    def one(ui, ci):
        true = ui[time_window:]
        roll = rollout(model, ui[:time_window], ci, true.shape[0])
        forced = teacher_forced(model, ui, ci, time_window)
        return _nmse(roll, true), _nmse(forced, true)

    return jax.vmap(one)(u, cond)


def rollout_nmse(
    model,
    u: Float[ArrayLike, "sample time ..."],
    cond: Float[ArrayLike, "sample cond"] | None,
    time_window: int,
) -> dict[str, float]:
    """Mean over trajectories of the per-trajectory NMSE of the full rollout from the
    first `time_window` frames (`"rollout"`) and of the teacher-forced predictions of
    the same frames (`"one_step"`). `model` is any `(window[, cond]) -> next window`
    callable (an Equinox module or a function)."""
    u = jnp.asarray(u, dtype=jnp.float32)
    if u.ndim not in (3, 5):
        raise ValueError(
            f"u must be (sample, time, x) or (sample, time, field, x, y), got shape "
            f"{u.shape}."
        )
    check_frames(u.shape[1], time_window)
    if cond is not None:
        cond = jnp.asarray(cond, dtype=jnp.float32)
        if cond.ndim != 2 or cond.shape[0] != u.shape[0]:
            raise ValueError(
                f"cond must be (sample, cond) with {u.shape[0]} samples, got "
                f"{cond.shape}."
            )
    roll, forced = _evaluate(model, u, cond, time_window)
    return {"rollout": float(jnp.mean(roll)), "one_step": float(jnp.mean(forced))}
