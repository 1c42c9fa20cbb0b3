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

import jax
import numpy as np
import xarray as xr

from ._stepper import check_frames, make_timestepper, rollout_nmse, train_timestepper
from ._timestep_config import MODES, TimestepConfig

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
    config: TimestepConfig = TimestepConfig(),  # noqa: B008 (frozen dataclass)
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
      `(encoder, state, header)` of `pdessl.training.read_encoder_file`; needed for `"ssl"`.
    - `params`: per-sample variables for `"params"`; default: the recipe's parameters.
    - `log_params`: condition on their logarithms.

    The field is divided by the training set's standard deviation (NMSE does not
    change); the conditioning vectors are standardised with training statistics.
    Returns a JSON-able dict with the per-seed numbers under `"modes"`.
    """
    from pdessl.datasets import open_dataset
    from pdessl.training import read_encoder_file

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
            encoder if isinstance(encoder, tuple) else read_encoder_file(encoder)
        )
        if u_train.ndim == 5:
            from pdessl.embedding import Encoder, embed_dataset

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
