"""Conditioned neural time-stepping: training, rollout, NMSE, experiments.

The protocol follows LPSDA (Brandstetter et al. 2022) as used by Mialon et al. 2023: a
time-stepper maps the $t_w$ frames $u_{s}, \\dots, u_{s+t_w-1}$ to the next $t_w$
frames; training pairs are drawn at random start times $s$; evaluation rolls out from
the first $t_w$ frames of each test trajectory, chunk by chunk, feeding predictions
back. The error is the paper's NMSE, per trajectory
$\\|\\hat u - u\\|_2^2 / \\|u\\|_2^2$ over all predicted frames, averaged over
trajectories. Beside the rollout NMSE we report the teacher-forced ("one-step") NMSE on
the same frames: every chunk predicted from the true previous window.

The time-stepper is conditioned (`pdessl.models.TimeStepper1d`) on one vector per
trajectory: nothing (`"none"`), the standardised ground-truth parameters (`"params"`,
e.g. $\\log \\nu$), or the frozen SSL representation of the trajectory's context
window (`"ssl"`) — its first $t_w$ frames, the same frames the rollout starts from, so
the representation sees nothing the time-stepper must predict.

1-D fields use `TimeStepper1d`; Navier–Stokes files (smoke `u`, `vx`, `vy` over
`(time, x, y)`) a `UNet2d` on frames of the three fields (PDEArena's setting, small),
each field normalised by its training standard deviation.
"""

import dataclasses
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import xarray as xr
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from pdessl.models import TimeStepper1d, UNet2d
from pdessl.progress import start_bar

MODES = ("none", "params", "ssl")


@dataclasses.dataclass(frozen=True)
class TimestepConfig:
    """Network and optimisation settings of one time-stepper run (LPSDA: `time_window`
    20; the tiny defaults here fit `burgers-tiny`'s 32 frames)."""

    time_window: int = 8
    width: int = 32
    depth: int = 3
    kernel: int = 5
    embed_dim: int = 32
    film: bool = True
    steps: int = 500
    batch_size: int = 32
    learning_rate: float = 2e-3
    warmup_steps: int = 20

    def __post_init__(self):
        for name in ("time_window", "width", "kernel", "steps", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}.")


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
    schedule = optax.warmup_cosine_decay_schedule(
        0.0,
        config.learning_rate,
        min(config.warmup_steps, config.steps - 1),
        config.steps,
    )
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


NS_FIELDS = ("u", "vx", "vy")  # smoke and velocity, PDEArena's predicted fields


def _field(ds, name: str) -> np.ndarray:
    """1-D: `u` (sample, time, x). 2-D Navier–Stokes: smoke and velocity stacked as
    (sample, time, field, x, y), each field divided by its own standard deviation
    (they differ by orders of magnitude; the NMSE is then over normalised fields)."""
    if ds.u.ndim == 3:
        return np.asarray(ds.u.values, dtype=np.float32)
    missing = [f for f in NS_FIELDS if f not in ds]
    if ds.u.ndim != 4 or missing:
        raise ValueError(
            f"the {name} file holds fields {dict(ds.sizes)} without {missing}; "
            "`timestep` handles 1-D (sample, time, x) fields and Navier–Stokes files "
            f"with {NS_FIELDS} (sample, time, x, y)."
        )
    return np.stack(
        [np.asarray(ds[f].values, dtype=np.float32) for f in NS_FIELDS], axis=2
    )


def timestep_experiment(
    train,
    test,
    *,
    modes: tuple[str, ...] = MODES,
    seeds: tuple[int, ...] = (0, 1, 2),
    config: TimestepConfig = TimestepConfig(),
    encoder=None,
    params: tuple[str, ...] | None = None,
    log_params: bool = True,
    progress=print,
) -> dict:
    """Train one time-stepper per conditioning mode and seed on `train`, evaluate the
    rollout and one-step NMSE on `test` (dataset paths or `open_dataset` results).

    **Arguments:**

    - `modes`: any of `"none"`, `"params"`, `"ssl"`.
    - `seeds`: each seed gives the network initialisation and the training pairs; all
      modes use the same seeds, so their runs differ only by the conditioning.
    - `encoder`: an encoder file (`pdessl pretrain` output) or the
      `(encoder, state, header)` of `pdessl.training.load_encoder`; needed for `"ssl"`.
    - `params`: per-sample variables for `"params"`; default: the recipe's parameters.
    - `log_params`: condition on their logarithms.

    The field is divided by the training set's standard deviation (NMSE does not
    change); the conditioning vectors are standardised with training statistics.
    Returns a JSON-able dict with the per-seed numbers under `"modes"`.
    """
    from pdessl.datasets import open_dataset
    from pdessl.training import load_encoder

    from ._condition import (
        Standardiser,
        default_parameters,
        parameter_condition,
        ssl_condition,
    )

    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise ValueError(
            f"unknown conditioning mode(s) {unknown or modes}; choose from "
            f"{', '.join(MODES)}."
        )
    if not seeds:
        raise ValueError("give at least one seed.")
    train_ds = train if isinstance(train, xr.Dataset) else open_dataset(train)
    test_ds = test if isinstance(test, xr.Dataset) else open_dataset(test)
    u_train, u_test = _field(train_ds, "training"), _field(test_ds, "test")
    tw = config.time_window
    check_frames(u_train.shape[1], tw)
    check_frames(u_test.shape[1], tw)
    if u_train.shape[2:] != u_test.shape[2:]:
        raise ValueError(
            f"training and test grids differ: {u_train.shape[2:]} vs "
            f"{u_test.shape[2:]}."
        )
    if u_train.ndim == 5:  # one scale per field
        scale = np.std(u_train, axis=(0, 1, 3, 4), keepdims=True) + 1e-12
    else:
        scale = float(np.std(u_train)) or 1.0
    u_train, u_test = u_train / scale, u_test / scale

    conditions = {"none": (None, None)}
    results = dict(
        config=dataclasses.asdict(config),
        seeds=list(seeds),
        train_samples=len(u_train),
        test_samples=len(u_test),
        frames=int(u_test.shape[1]),
        rollout_frames=int(u_test.shape[1] - tw),
        modes={},
    )
    if "params" in modes:
        names = tuple(params) if params else default_parameters(train_ds)
        raw = parameter_condition(train_ds, names, log=log_params)
        std = Standardiser.fit(raw)
        conditions["params"] = (
            std(raw),
            std(parameter_condition(test_ds, names, log=log_params)),
        )
        results["params"] = list(names)
    if "ssl" in modes:
        if encoder is None:
            raise ValueError("ssl conditioning needs an encoder file (--encoder).")
        enc, state, header = (
            encoder if isinstance(encoder, tuple) else load_encoder(encoder)
        )
        if u_train.ndim == 5:
            from pdessl.api import Encoder, embed_dataset

            # 2-D: the pretraining view of the first window (`tw` must equal the
            # encoder's crop_time), averaged over the spatial tiles.
            if tw != header["crop_time"]:
                raise ValueError(
                    f"ssl conditioning on Navier–Stokes needs time_window = the "
                    f"encoder's crop_time ({header['crop_time']}), got {tw}."
                )
            wrapped = Encoder(enc, state, header)

            def ssl_condition(ds, *_):
                first = ds.isel(time=slice(0, tw))
                return embed_dataset(wrapped, first).representation.values

        raw = ssl_condition(train_ds, enc, state, header, tw)
        std = Standardiser.fit(raw)
        conditions["ssl"] = (
            std(raw),
            std(ssl_condition(test_ds, enc, state, header, tw)),
        )

    for mode in modes:
        c_train, c_test = conditions[mode]
        cond_dim = 0 if c_train is None else c_train.shape[1]
        runs = dict(cond_dim=cond_dim, rollout=[], one_step=[], final_loss=[])
        for seed in seeds:
            k_init, k_train = jax.random.split(jax.random.key(seed))
            model = make_timestepper(
                config,
                cond_dim,
                key=k_init,
                fields=u_train.shape[2] if u_train.ndim == 5 else None,
                periodic=train_ds.attrs.get("boundary", "periodic") == "periodic",
            )
            model, losses = train_timestepper(
                model, u_train, c_train, config, key=k_train
            )
            scores = rollout_nmse(model, u_test, c_test, tw)
            runs["rollout"].append(scores["rollout"])
            runs["one_step"].append(scores["one_step"])
            runs["final_loss"].append(float(np.mean(losses[-20:])))
            progress(
                f"{mode} seed {seed}: rollout NMSE {scores['rollout']:.4f}, "
                f"one-step NMSE {scores['one_step']:.4f}"
            )
        for name in ("rollout", "one_step"):
            runs[f"{name}_mean"] = float(np.mean(runs[name]))
            # Sample standard deviation over seeds (as the regression reports).
            runs[f"{name}_std"] = (
                float(np.std(runs[name], ddof=1)) if len(seeds) > 1 else 0.0
            )
        results["modes"][mode] = runs
    return results


def format_timestep_results(results: dict) -> str:
    """A plain-text table: rollout and one-step NMSE, mean ± std over seeds."""
    seeds = len(results["seeds"])
    lines = [
        f"test NMSE over {results['rollout_frames']} rollout frames "
        f"(time window {results['config']['time_window']}, {results['test_samples']} "
        f"test trajectories, mean ± std over {seeds} seed{'s' * (seeds > 1)})",
        f"{'conditioning':<14}{'rollout':>24}{'one-step':>24}",
    ]
    for mode, runs in results["modes"].items():
        cells = [
            f"{runs[f'{n}_mean']:.3e} ± {runs[f'{n}_std']:.1e}"
            for n in ("rollout", "one_step")
        ]
        lines.append(f"{mode:<14}{cells[0]:>24}{cells[1]:>24}")
    return "\n".join(lines)
