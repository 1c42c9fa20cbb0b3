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

import numpy as np
import xarray as xr

from pdessl import datasets
from pdessl.embedding import Encoder, embed_dataset

from ._baselines import best_constant, physics_estimate
from ._probes import (
    TargetTransform,
    fit_linear_probe,
    fit_mlp_probe,
    nmse,
    relative_l1,
)
from ._supervised import supervised_generators, supervised_predict, train_supervised

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


def regression_targets(ds: xr.Dataset, target: str) -> np.ndarray:
    """The values `(sample,)` or `(sample, k)` of `target`: a per-sample variable, a
    derived target, or several of them joined by commas (`"alpha,beta,gamma"`),
    regressed jointly as columns."""
    names = [name.strip() for name in target.split(",")]
    if len(names) > 1:
        n = ds.sizes["sample"]
        return np.concatenate(
            [regression_targets(ds, name).reshape(n, -1) for name in names], axis=1
        )
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
    y_train, y_test = (
        regression_targets(train_ds, target),
        regression_targets(test_ds, target),
    )
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
