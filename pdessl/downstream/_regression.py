"""Regression of PDE parameters from frozen representations, against a supervised
network trained from scratch (the paper's Table 1, regression rows).

- **Probes** on frozen SSL representations: a linear head (ridge regression, the
  ridge chosen by k-fold cross-validation on the labelled set) and the paper's small MLP
  head (hidden layers with BatchNorm and ReLU, output through a sigmoid scaled to the
  labelled targets' range), trained with Adam.
- **Supervised baseline**: the same encoder architecture, initialised afresh, trained
  end to end with the MLP head on the same labelled subset, on random crops augmented by
  the Lie point symmetries that leave the target unchanged (a fair baseline, as in the
  paper). Both see test trajectories the same way: the mean representation over
  non-overlapping crops (`pdessl.api`).

Metric (PAPER.md): NMSE $= \\frac1N \\sum_k \\|\\hat y_k - y_k\\|^2 / \\|y_k\\|^2$ on the
test split; the relative L1 error $\\frac1N \\sum_k \\|\\hat y_k - y_k\\|_1 /
\\|y_k\\|_1$ (the paper's Burgers metric) is reported alongside.

Positive targets spanning more than a factor `LOG_SPAN` (e.g. a log-uniform viscosity)
are fitted in log space by default (`log_target=None`), predictions mapped back.
"""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import xarray as xr

from pdessl import datasets, symmetries
from pdessl.api import Encoder, _dataset_arrays, _embed_batches, embed_dataset
from pdessl.models import ResNet
from pdessl.progress import start_bar
from pdessl.training._step import batch_views

from ._baselines import best_constant, physics_estimate

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
        return _design(features, self.mean, self.std) @ self.weights


def _design(f, mean, std):
    f = (np.asarray(f, dtype=np.float64) - mean) / std
    return np.concatenate([f, np.ones((len(f), 1))], axis=1)


def _ridge_solve(a, y, ridge):
    reg = ridge * np.eye(a.shape[1])
    reg[-1, -1] = 0.0  # the intercept is not shrunk
    return np.linalg.solve(a.T @ a + reg, a.T @ y)


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
    a = _design(f, mean, std)
    parts = np.array_split(np.random.default_rng(0).permutation(len(f)), folds)
    errors = []
    for ridge in ridges:
        err = 0.0
        for part in parts:
            train = np.setdiff1d(np.arange(len(f)), part)
            w = _ridge_solve(a[train], y[train], ridge)
            err += float(np.sum((a[part] @ w - y[part]) ** 2))
        errors.append(err)
    best = max(
        r for r, e in zip(ridges, errors, strict=True) if e <= min(errors) * (1 + 1e-12)
    )
    return LinearProbe(mean, std, _ridge_solve(a, y, best), best)


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


def _batched(module, state, x):
    return jax.vmap(module, axis_name="batch", in_axes=(0, None), out_axes=(0, None))(
        x, state
    )


def _adam(lr: float, steps: int):
    return optax.adam(optax.cosine_decay_schedule(lr, max(steps, 1)))


@eqx.filter_jit
def _head_step(head, state, opt_state, optimizer, x, y):
    params, static = eqx.partition(head, eqx.is_inexact_array)

    def loss_fn(params, state):
        pred, state = _batched(eqx.combine(params, static), state, x)
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
    optimizer = optax.adam(lr)
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
            c: float(jnp.mean((_batched(h, st, x[val])[0] - yj[val]) ** 2))
            for c, (h, st) in snaps.items()
        }
        chosen = min(errors, key=errors.get)
    head, state = _train_head(
        x, yj, *args, chosen, {chosen}, batch_size, learning_rate, seed
    )[chosen]

    def predict(features):
        g = (np.asarray(features, dtype=np.float64) - mean) / std
        out, _ = _batched(head, state, jnp.asarray(g, dtype=jnp.float32))
        return np.asarray(out, dtype=np.float64)

    predict.steps = chosen
    return predict


# ------------------------------------------------------- supervised baseline


def supervised_generators(pde: str, target: str) -> tuple[str, ...]:
    """Symmetries that leave `target` unchanged, used to augment the supervised
    baseline. The viscosity is invariant under every Burgers symmetry (the projective
    map is left out, as in pretraining: it needs 1 - e t > 0 on the crop); the
    initial condition's Fourier magnitudes are invariant under space shifts (a phase)
    and Galilean boosts (a constant added), but not under KdV's scaling. On the
    periodic Navier–Stokes domain the buoyancy is kept by shifts, boosts and the
    scaling (the smoke, not an input, absorbs it); rotation is left out (gravity
    breaks it)."""
    if pde == "ns":
        return ("space_shift", "scaling", "linear_boost", "quadratic_boost")
    if pde == "burgers" and target == "nu":
        return ("space_shift", "galilean_boost", "scaling")
    return ("space_shift", "galilean_boost")


def _augmentation(pde: str, names: tuple[str, ...]) -> symmetries.Augmentation:
    gens = symmetries.default_generators(pde)
    known = {g.name for g in gens}
    unknown = set(names) - known
    if unknown:
        raise ValueError(
            f"unknown generator(s) {sorted(unknown)} for {pde!r}; known: "
            f"{sorted(known)}."
        )
    return symmetries.Augmentation(tuple(g for g in gens if g.name in names), 2, 2)


class SupervisedModel(eqx.Module):
    encoder: ResNet
    head: MLPHead


def _fresh_encoder(header: dict, key) -> ResNet:
    return ResNet(
        header["in_channels"],
        widths=tuple(header["widths"]),
        depths=tuple(header["depths"]),
        imagenet_stem=header["imagenet_stem"],
        group_norm=header["group_norm"],
        key=key,
    )


@eqx.filter_jit
def _supervised_step(model, state, opt_state, static, batch, y, key):
    aug, optimizer, scales = static
    views = batch_views(aug, jax.random.split(key, y.shape[0]), batch, scales)
    params, rest = eqx.partition(model, eqx.is_inexact_array)

    def loss_fn(params, state):
        m = eqx.combine(params, rest)
        h, state = _batched(m.encoder, state, views)
        pred, state = _batched(m.head, state, h)
        return jnp.mean((pred - y) ** 2), state

    (loss, state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, state)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    model = eqx.combine(optax.apply_updates(params, updates), rest)
    return model, state, opt_state, loss


def train_supervised(
    header: dict,
    labelled: xr.Dataset,
    targets,
    *,
    generators: tuple[str, ...],
    steps: int = 300,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    hidden=(256,),
    seed: int = 0,
):
    """Train encoder + MLP head from scratch on `labelled` crops (targets already in
    the fitted space). Returns `(model, state)` in inference mode."""
    from pdessl.training import ChannelScales

    y = _as_2d(targets)
    k1, k2, k3 = jax.random.split(jax.random.key(seed), 3)
    # Encoder and head share one State (their BatchNorm statistics).
    model, state = eqx.nn.make_with_state(
        lambda: SupervisedModel(
            _fresh_encoder(header, k1),
            MLPHead(
                header["widths"][-1], y.shape[1], hidden, y.min(0), y.max(0), key=k2
            ),
        )
    )()
    optimizer = _adam(learning_rate, steps)
    opt_state = optimizer.init(eqx.filter(model, eqx.is_inexact_array))
    batch_size = min(batch_size, labelled.sizes["sample"])
    labelled = labelled.assign(target=(("sample", "target_dim"), y))
    two_d = header["pde"] == "ns"
    loader = datasets.CropLoader(
        labelled,
        batch_size=batch_size,
        crop_time=header["crop_time"],
        crop_space=header["crop_space"],
        seed=seed,
        fields=("vx", "vy") if two_d else ("u",),
        variables=("dy", "target") if two_d else ("L", "target"),
    )
    lengths, labelled_index = {}, labelled["index"].values
    if two_d:
        lengths = dict(
            Lx=labelled.dx.values * labelled.sizes["x"],
            Ly=labelled.dy.values * labelled.sizes["y"],
        )
    static = (
        _augmentation(header["pde"], generators),
        optimizer,
        ChannelScales(**header["scales"]),
    )
    step, epoch = 0, 0
    bar = start_bar(steps, desc="supervised baseline")
    while step < steps:
        for batch in loader.epoch(epoch):
            if step == steps:
                break
            b = {k: jnp.asarray(v) for k, v in batch.items()}
            if two_d:
                # Domain lengths for the space shifts, per sample of this batch.
                idx = np.searchsorted(labelled_index, batch["index"])
                b.update({k: jnp.asarray(v[idx]) for k, v in lengths.items()})
            model, state, opt_state, loss = _supervised_step(
                model,
                state,
                opt_state,
                static,
                b,
                b["target"].astype(jnp.float32),
                jax.random.fold_in(k3, step),
            )
            bar.update(loss=loss)
            step += 1
        epoch += 1
    bar.close()
    return eqx.nn.inference_mode(model), state


def supervised_predict(model, state, header: dict, ds: xr.Dataset, crops="mean"):
    """Predictions (fitted space) from the mean representation over the crops of
    each trajectory, exactly as the SSL probe sees the test data."""
    from pdessl.training import ChannelScales

    arrays, crop_shape = _dataset_arrays(ds, header)
    scales = ChannelScales(**header["scales"])
    h = _embed_batches(model.encoder, state, scales, arrays, crop_shape, crops, 64)
    out, _ = _batched(model.head, state, jnp.asarray(h))
    return np.asarray(out, dtype=np.float64)


# ------------------------------------------------------------------ the task


def ic_spectrum(ds: xr.Dataset) -> np.ndarray:
    r"""Magnitudes $|c_k|$ of the initial condition's Fourier coefficients, one per
    wavenumber the recipe draws from.

    A sum of sines $\sum_j A_j \sin(2\pi k_j x / L + \phi_j)$ whose wavenumbers
    repeat (LPSDA: 10 modes over $k \in \{1, 2\}$) is fixed by
    $c_k = \sum_{j: k_j = k} A_j e^{i \phi_j}$, not by the individual $A_j$: the
    per-mode amplitudes are not identifiable from the solution (regressing them gives
    NMSE ~ 1 whatever the features). $|c_k|$ is, and it is unchanged by space shifts
    and Galilean boosts (which move the phase or add a constant)."""
    import tomllib

    a = ds.ic_amplitude.values
    k = ds.ic_wavenumber.values
    phase = ds.ic_phase.values
    try:
        ic = tomllib.loads(ds.attrs["recipe"])["initial_condition"]
        ks = np.arange(ic["min_wavenumber"], ic["max_wavenumber"])
    except (KeyError, tomllib.TOMLDecodeError):
        ks = np.arange(k.min(), k.max() + 1)
    c = np.stack([np.sum(a * np.exp(1j * phase) * (k == kk), axis=1) for kk in ks], 1)
    return np.abs(c)


DERIVED_TARGETS = {"ic_spectrum": ic_spectrum}


def _targets(ds: xr.Dataset, target: str) -> np.ndarray:
    if target in DERIVED_TARGETS and target not in ds:
        ds = ds.assign({target: (("sample", "k"), DERIVED_TARGETS[target](ds))})
    if target not in ds:
        per_sample = sorted(
            str(n) for n, v in ds.data_vars.items() if v.dims[:1] == ("sample",)
        )
        raise ValueError(
            f"target {target!r} is not a per-sample variable of the data; choose "
            f"one of {[n for n in per_sample if n != 'u']} or a derived target "
            f"({', '.join(DERIVED_TARGETS)})."
        )
    y = np.asarray(ds[target].values, dtype=np.float64)
    if y.ndim > 2 or y.shape[0] != ds.sizes["sample"]:
        raise ValueError(f"target {target!r} has dims {ds[target].dims}.")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"target {target!r} holds NaN or Inf values.")
    return y


def _summary(values: list[float]) -> dict:
    arr = np.asarray(values)
    return dict(
        values=[float(v) for v in arr],
        mean=float(arr.mean()),
        std=float(arr.std(ddof=1)) if len(arr) > 1 else 0.0,
    )


def run_regression(
    encoder: Encoder,
    train,
    test,
    target: str,
    *,
    labelled: int | None = None,
    seeds=(0, 1, 2),
    heads=("linear", "mlp"),
    supervised: bool = True,
    supervised_steps: int = 300,
    head_steps: int = 1000,
    log_target: bool | None = None,
    crops: str = "mean",
    progress=print,
) -> dict:
    """SSL probes and the supervised baseline on one labelled subset per seed.

    `labelled` samples are drawn (per seed) from the `train` file; `None` uses all.
    Returns `{method: {"nmse": {mean, std, values}, "rel_l1": {...}}, ...}` plus the
    settings used."""
    train_ds = train if isinstance(train, xr.Dataset) else datasets.open_dataset(train)
    test_ds = test if isinstance(test, xr.Dataset) else datasets.open_dataset(test)
    bad = set(heads) - {"linear", "mlp"}
    if bad:
        raise ValueError(f"unknown head(s) {sorted(bad)}; use 'linear' and/or 'mlp'.")
    y_train, y_test = _targets(train_ds, target), _targets(test_ds, target)
    n_train = train_ds.sizes["sample"]
    labelled = n_train if labelled is None else labelled
    if not 4 <= labelled <= n_train:
        raise ValueError(
            f"labelled must be in [4, {n_train}] (the train file's samples), got "
            f"{labelled}."
        )
    z_train = embed_dataset(encoder, train_ds, crops=crops).representation.values
    z_test = embed_dataset(encoder, test_ds, crops=crops).representation.values
    generators = supervised_generators(encoder.pde, target)
    scores: dict[str, dict[str, list]] = {}
    physics = physics_estimate(test_ds, target)

    def record(method, pred):
        s = scores.setdefault(method, {"nmse": [], "rel_l1": []})
        s["nmse"].append(nmse(pred, y_test))
        s["rel_l1"].append(relative_l1(pred, y_test))

    for seed in seeds:
        idx = np.sort(
            np.random.default_rng([seed, 7]).choice(n_train, labelled, replace=False)
        )
        tf = TargetTransform.fit(y_train[idx], log_target)
        y_fit = tf.forward(y_train[idx])
        shape = y_test.shape
        if "linear" in heads:
            probe = fit_linear_probe(z_train[idx], y_fit)
            record("ssl_linear", tf.inverse(probe(z_test)).reshape(shape))
        if "mlp" in heads:
            predict = fit_mlp_probe(z_train[idx], y_fit, steps=head_steps, seed=seed)
            record("ssl_mlp", tf.inverse(predict(z_test)).reshape(shape))
        if supervised:
            model, state = train_supervised(
                encoder.header,
                train_ds.isel(sample=idx),
                y_fit,
                generators=generators,
                steps=supervised_steps,
                seed=seed,
            )
            pred = supervised_predict(model, state, encoder.header, test_ds, crops)
            record("supervised", tf.inverse(pred).reshape(shape))
        # Reference rows: the ceiling (a constant fitted on the same labels) and the
        # floor (a physics estimator using every stored frame, where one exists).
        record("best_constant", np.broadcast_to(best_constant(y_train[idx]), shape))
        if physics is not None:
            record("physics", physics.reshape(shape))
        progress(
            f"seed {seed}: "
            + ", ".join(f"{m} NMSE {v['nmse'][-1]:.4g}" for m, v in scores.items())
        )
    return dict(
        target=target,
        labelled=labelled,
        test_samples=int(test_ds.sizes["sample"]),
        seeds=list(seeds),
        log_target=tf.log,
        supervised_generators=list(generators) if supervised else [],
        supervised_steps=supervised_steps,
        crops=crops,
        physics_estimator=physics is not None,
        results={m: {k: _summary(v) for k, v in s.items()} for m, s in scores.items()},
    )


def format_results(report: dict) -> str:
    """A table of NMSE and relative L1 (mean ± std over seeds) per method; the
    reference rows (best constant, physics estimator) last, marked as such."""
    lines = [
        f"target {report['target']}: {report['labelled']} labelled, "
        f"{report['test_samples']} test samples, seeds {report['seeds']}",
        f"{'method':<20} {'NMSE':>22} {'rel. L1':>22}",
    ]
    refs = ("best_constant", "physics")
    learned = [m for m in report["results"] if m not in refs]
    for method in learned + [m for m in refs if m in report["results"]]:
        s = report["results"][method]
        if method == refs[0]:
            lines.append("reference rows (no representation):")
        cells = [
            f"{s[k]['mean']:.4g} ± {s[k]['std']:.2g}".rjust(22)
            for k in ("nmse", "rel_l1")
        ]
        label = "physics (all frames)" if method == "physics" else method
        lines.append(f"{label:<20} {cells[0]} {cells[1]}")
    return "\n".join(lines)
