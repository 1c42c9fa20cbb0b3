"""Heads on frozen representations: the metrics, the target transform, the linear
probe (ridge, cross-validated) and the paper's MLP head."""

import dataclasses
import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from pdessl.models import batched
from pdessl.progress import start_bar
from pdessl.training import design, ridge_solve

LOG_SPAN = 3.0


def nmse(pred, true) -> float:
    """Mean over samples of $\\|\\hat y - y\\|_2^2 / \\|y\\|_2^2$."""
    p, t = _as_2d(pred), _as_2d(true)
    return float(np.mean(np.sum((p - t) ** 2, 1) / np.sum(t**2, 1)))


def relative_l1(pred, true) -> float:
    """Mean over samples of $\\|\\hat y - y\\|_1 / \\|y\\|_1$."""
    p, t = _as_2d(pred), _as_2d(true)
    return float(np.mean(np.sum(np.abs(p - t), 1) / np.sum(np.abs(t), 1)))


def _as_2d(y) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    return y.reshape(len(y), -1)


@dataclasses.dataclass(frozen=True)
class TargetTransform:
    """Maps targets to the space heads are fitted in (standardised, optionally log)."""

    log: bool
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, y: np.ndarray, log: bool | None = None) -> "TargetTransform":
        y = _as_2d(y)
        if log is None:
            log = bool(np.all(y > 0) and np.all(y.max(0) > LOG_SPAN * y.min(0)))
        if log and np.any(y <= 0):
            raise ValueError("log_target needs strictly positive targets.")
        z = np.log(y) if log else y
        return cls(log, z.mean(0), z.std(0) + 1e-12)

    def forward(self, y) -> np.ndarray:
        z = _as_2d(y)
        return ((np.log(z) if self.log else z) - self.mean) / self.std

    def inverse(self, z) -> np.ndarray:
        z = np.asarray(z, dtype=np.float64) * self.std + self.mean
        return np.exp(z) if self.log else z


# ---------------------------------------------------------------- linear probe


@dataclasses.dataclass(frozen=True)
class LinearProbe:
    mean: np.ndarray
    std: np.ndarray
    weights: np.ndarray  # (dim + 1, outputs), last row the intercept
    ridge: float

    def __call__(self, features) -> np.ndarray:
        return design(features, self.mean, self.std) @ self.weights


def fit_linear_probe(
    features,
    targets,
    *,
    ridges=tuple(10.0**k for k in range(-4, 5)),
    folds: int = 5,
) -> LinearProbe:
    """Ridge regression on standardised features; the ridge minimises the k-fold
    cross-validated MSE on the labelled set (ties go to the larger ridge)."""
    f = np.asarray(features, dtype=np.float64)
    y = _as_2d(targets)
    if f.ndim != 2 or len(f) != len(y):
        raise ValueError(
            f"features must be (samples, dim) with one target row per sample, got "
            f"{f.shape} and {y.shape}."
        )
    if len(f) < 2 * folds:
        folds = max(2, len(f) // 2)
    mean, std = f.mean(0), f.std(0) + 1e-12
    a = design(f, mean, std)
    parts = np.array_split(np.random.default_rng(0).permutation(len(f)), folds)
    errors = []
    for ridge in ridges:
        err = 0.0
        for part in parts:
            train = np.setdiff1d(np.arange(len(f)), part)
            w = ridge_solve(a[train], y[train], ridge)
            err += float(np.sum((a[part] @ w - y[part]) ** 2))
        errors.append(err)
    best = max(
        r for r, e in zip(ridges, errors, strict=True) if e <= min(errors) * (1 + 1e-12)
    )
    return LinearProbe(mean, std, ridge_solve(a, y, best), best)


# ------------------------------------------------------------------- MLP head


class MLPHead(eqx.Module):
    """(Linear, BatchNorm, ReLU) x len(hidden), then Linear and a sigmoid scaled to
    `[low, high]` per output (the labelled range, in the fitted target space, widened
    by 10 % on each side so the ends stay reachable)."""

    linears: tuple[eqx.nn.Linear, ...]
    norms: tuple[eqx.nn.BatchNorm, ...]
    low: jax.Array
    high: jax.Array

    def __init__(self, in_dim: int, out_dim: int, hidden, low, high, *, key):
        keys = jax.random.split(key, len(hidden) + 1)
        sizes = (in_dim, *hidden, out_dim)
        self.linears = tuple(
            eqx.nn.Linear(a, b, dtype=jnp.float32, key=k)
            for a, b, k in zip(sizes[:-1], sizes[1:], keys, strict=True)
        )
        self.norms = tuple(
            eqx.nn.BatchNorm(h, axis_name="batch", mode="batch", dtype=jnp.float32)
            for h in hidden
        )
        pad = 0.1 * (np.asarray(high) - np.asarray(low)) + 1e-6
        self.low = jnp.asarray(np.asarray(low) - pad, dtype=jnp.float32)
        self.high = jnp.asarray(np.asarray(high) + pad, dtype=jnp.float32)

    def __call__(self, h, state):
        h = h.astype(jnp.float32)
        for linear, norm in zip(self.linears[:-1], self.norms, strict=True):
            h, state = norm(linear(h), state)
            h = jax.nn.relu(h.astype(jnp.float32))
        out = jax.nn.sigmoid(self.linears[-1](h))
        return self.low + (self.high - self.low) * out, state


# The optimizers are passed to jitted steps as static arguments, which are compared
# by identity: one object per setting lets every seed and every head of a run reuse
# one compilation instead of compiling the same step again.
@functools.cache
def _adam(lr: float, steps: int):
    return optax.adam(optax.cosine_decay_schedule(lr, max(steps, 1)))


@functools.cache
def _constant_adam(lr: float):
    return optax.adam(lr)


@eqx.filter_jit
def _head_step(head, state, opt_state, optimizer, x, y):
    params, static = eqx.partition(head, eqx.is_inexact_array)

    def loss_fn(params, state):
        pred, state = batched(eqx.combine(params, static), state, x)
        return jnp.mean((pred - y) ** 2), state

    (loss, state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, state)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    head = eqx.combine(optax.apply_updates(params, updates), static)
    return head, state, opt_state, loss


def _train_head(x, y, hidden, low, high, steps, checkpoints, batch, lr, seed):
    """Adam at a constant rate (the paper's head protocol); the trained head (in
    inference mode) and its state at each step count in `checkpoints`."""
    head, state = eqx.nn.make_with_state(MLPHead)(
        x.shape[1], y.shape[1], hidden, low, high, key=jax.random.key(seed)
    )
    optimizer = _constant_adam(float(lr))
    opt_state = optimizer.init(eqx.filter(head, eqx.is_inexact_array))
    rng = np.random.default_rng(seed)
    batch = min(batch, len(x))
    snapshots = {}
    bar = start_bar(steps, desc="probe head")
    for step in range(1, steps + 1):
        idx = rng.choice(len(x), batch, replace=False)
        head, state, opt_state, loss = _head_step(
            head, state, opt_state, optimizer, x[idx], y[idx]
        )
        bar.update(loss=loss)
        if step in checkpoints:
            snapshots[step] = (eqx.nn.inference_mode(head), state)
    bar.close()
    return snapshots


def fit_mlp_probe(
    features,
    targets,
    *,
    hidden=(256,),
    steps: int = 1000,
    batch_size: int = 64,
    learning_rate: float = 7e-4,
    validation: float = 0.25,
    seed: int = 0,
):
    """Train an `MLPHead` on standardised frozen features (targets already in the
    fitted space). Returns a predict function `features -> targets`.

    With few labels the head overfits quickly, so the number of steps is chosen on
    the labelled set itself: trained on a random `1 - validation` part, the head is
    scored on the rest after 1/32, 1/16, ..., all of `steps`; the best count is
    then used to train on all labelled samples (`validation=0` skips the choice)."""
    f = np.asarray(features, dtype=np.float64)
    y = _as_2d(targets)
    mean, std = f.mean(0), f.std(0) + 1e-12
    x = jnp.asarray((f - mean) / std, dtype=jnp.float32)
    yj = jnp.asarray(y, dtype=jnp.float32)
    args = (hidden, y.min(0), y.max(0))
    chosen = steps
    n_val = round(validation * len(f))
    if n_val >= 2 and len(f) - n_val >= 2:
        perm = np.random.default_rng([seed, 3]).permutation(len(f))
        val, fit = perm[:n_val], perm[n_val:]
        counts = sorted({max(1, steps >> k) for k in range(6)})
        snaps = _train_head(
            x[fit], yj[fit], *args, steps, set(counts), batch_size, learning_rate, seed
        )
        errors = {
            c: float(jnp.mean((batched(h, st, x[val])[0] - yj[val]) ** 2))
            for c, (h, st) in snaps.items()
        }
        chosen = min(errors, key=errors.get)
    head, state = _train_head(
        x, yj, *args, chosen, {chosen}, batch_size, learning_rate, seed
    )[chosen]

    def predict(features):
        g = (np.asarray(features, dtype=np.float64) - mean) / std
        out, _ = batched(head, state, jnp.asarray(g, dtype=jnp.float32))
        return np.asarray(out, dtype=np.float64)

    predict.steps = chosen
    return predict
