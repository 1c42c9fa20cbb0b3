"""Experiments: data generation, VICReg pretraining and downstream evaluation in one
work directory, driven by one TOML file (the quick start is one such file, shipped
with the package).

```toml
name = "burgers-viscosity-cpu"
description = "..."
expected_runtime = "6 min on 2 CPU cores"
recipe = "burgers-tiny"      # dataset recipe (shipped name or path)
unlabelled = 1024             # pretraining pool: the recipe's train split
test = 256                    # held-out test split
seeds = [0, 1, 2]             # downstream seeds (labelled subsets, head inits)

[pretrain]                    # pretraining preset plus overrides (PretrainConfig)
preset = "tiny"
steps = 1000

[regression]                  # optional: SSL probes vs the supervised baseline
target = "nu"
labelled = 64
```

Layout of the work directory: `data/{train,test}.h5`, `pretrain/` (metrics.jsonl,
checkpoints, encoder.eqx), `results.json`, `figures/*.png`. Every stage resumes:
finished data files and pretraining runs are reused, so re-running after an
interruption continues where it stopped. `data/` and `pretrain/` hold
`fingerprint.json`, the settings that made them: a rerun with other settings is
refused (`pdessl._fingerprint`) instead of reusing the old data or encoder.
"""

import dataclasses
import json
import platform
import time
from pathlib import Path

import jax
import numpy as np

from pdessl import datasets
from pdessl._fingerprint import check_stage, stage_digest
from pdessl.outputs import write_json
from pdessl.training._config import read_toml, shipped_tomls

REGRESSION_KEYS = {
    "target",
    "labelled",
    "heads",
    "supervised",
    "supervised_steps",
    "head_steps",
    "log_target",
    "crops",
}


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    name: str
    recipe: str
    unlabelled: int
    test: int
    description: str = ""
    expected_runtime: str = ""
    seeds: tuple[int, ...] = (0, 1, 2)
    pretrain: dict = dataclasses.field(default_factory=dict)
    regression: dict | None = None
    timestep: dict | None = None
    controls: bool = True  # also evaluate the untrained encoder (same architecture)


def shipped_experiments() -> list[str]:
    return shipped_tomls("pdessl", "experiment_configs")


def load_experiment(name_or_path: str | Path) -> ExperimentConfig:
    """A shipped experiment (`quickstart`) or a TOML file; unknown keys are errors."""
    name = str(name_or_path)
    data = read_toml(name, "pdessl", "experiment_configs", "experiment")
    fields = {f.name for f in dataclasses.fields(ExperimentConfig)}
    unknown = set(data) - fields
    if unknown:
        raise ValueError(
            f"{name}: unknown key(s) {sorted(unknown)}; known: {sorted(fields)}."
        )
    missing = {"name", "recipe", "unlabelled", "test"} - set(data)
    if missing:
        raise ValueError(f"{name}: missing key(s) {sorted(missing)}.")
    if "seeds" in data:
        data["seeds"] = tuple(int(s) for s in data["seeds"])
    bad = set(data.get("regression") or {}) - REGRESSION_KEYS
    if bad:
        raise ValueError(
            f"{name}: unknown [regression] key(s) {sorted(bad)}; known: "
            f"{sorted(REGRESSION_KEYS)}."
        )
    if data.get("regression") and "target" not in data["regression"]:
        raise ValueError(f"{name}: [regression] needs a target.")
    if data.get("timestep") is not None:
        _timestep_options(data["timestep"], name)
    config = ExperimentConfig(**data)
    _pretrain_config(config)  # validate the pretraining section now, not later
    return config


def check_experiment(config: ExperimentConfig) -> None:
    """The checks of `load_experiment` that read values, for a config built in code
    (e.g. with command-line overrides, `pdessl.overrides`)."""
    if config.regression is not None and "target" not in config.regression:
        raise ValueError(f"{config.name}: [regression] needs a target.")
    if config.timestep is not None:
        _timestep_options(config.timestep, config.name)
    _pretrain_config(config)


TIMESTEP_KEYS = {"modes", "params", "log_params"}


def _timestep_options(section: dict, name: str = "experiment"):
    """`(modes, TimestepConfig, extra keyword arguments)` of a [timestep] section."""
    from pdessl.downstream import TimestepConfig

    fields = {f.name for f in dataclasses.fields(TimestepConfig)}
    unknown = set(section) - fields - TIMESTEP_KEYS
    if unknown:
        raise ValueError(
            f"{name}: unknown [timestep] key(s) {sorted(unknown)}; known: "
            f"{sorted(fields | TIMESTEP_KEYS)}."
        )
    config = TimestepConfig(**{k: v for k, v in section.items() if k in fields})
    extra = {k: section[k] for k in ("params", "log_params") if k in section}
    if "params" in extra:
        extra["params"] = tuple(extra["params"])
    modes = tuple(section.get("modes", ("none", "params", "ssl")))
    return modes, config, extra


def _pretrain_config(config: ExperimentConfig):
    from pdessl.training import load_config

    overrides = dict(config.pretrain)
    preset = overrides.pop("preset", "tiny")
    return load_config(preset, **overrides)


def _stage_key(config: ExperimentConfig) -> str:
    import hashlib

    what = [config.recipe, config.unlabelled, config.test, config.pretrain]
    digest = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()
    return f"{Path(config.recipe).stem}-{digest[:12]}"


def _data(config: ExperimentConfig, workdir: Path, progress) -> tuple[Path, Path]:
    recipe = datasets.load_recipe(config.recipe)
    what = dict(recipe=config.recipe, recipe_source=recipe.source)
    what.update(unlabelled=config.unlabelled, test=config.test)
    check_stage(workdir / "data", what, stage="data", note=progress)
    paths = []
    for split, n in (("train", config.unlabelled), ("test", config.test)):
        path = workdir / "data" / f"{split}.h5"
        if not path.exists():
            progress(f"generating {n} {config.recipe} {split} trajectories")
            path.parent.mkdir(parents=True, exist_ok=True)
            datasets.generate(recipe, split, path, num_samples=n, progress=False)
        paths.append(path)
    return paths[0], paths[1]


def run_experiment(
    config: ExperimentConfig,
    workdir: str | Path,
    *,
    seeds: tuple[int, ...] | None = None,
    figures: bool = True,
    shared: str | Path | None = None,
    progress=print,
) -> dict:
    """Run (or resume) every stage of `config` in `workdir`; returns the results
    also written to `workdir/results.json`.

    With `shared`, the data and the pretrained encoder live in
    `shared/<key>/` instead, `key` a digest of the recipe, the data sizes and the
    pretraining configuration: experiments that differ only downstream (a
    regression cell and a time-stepping cell of the same PDE) pretrain once.

    The work directory is locked while the experiment runs (`experiment.lock`): a
    second run on it is refused, naming the first one's pid."""
    from pdessl.runlock import RunLock

    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    with RunLock(workdir / "experiment.lock", what=f"the experiment workdir {workdir}"):
        return _run_experiment(config, workdir, seeds, figures, shared, progress)


def _run_experiment(
    config: ExperimentConfig,
    workdir: Path,
    seeds: tuple[int, ...] | None,
    figures: bool,
    shared: str | Path | None,
    progress,
) -> dict:
    """`run_experiment` without the lock."""
    import pdessl
    from pdessl import downstream
    from pdessl.training import pretrain

    seeds = tuple(config.seeds if seeds is None else seeds)
    timings = {}
    tick = time.perf_counter()
    pre_config = _pretrain_config(config)
    base = workdir if shared is None else Path(shared).resolve() / _stage_key(config)
    train, test = _data(config, base, progress)
    timings["data_s"] = time.perf_counter() - tick

    pretrain_dir = base / "pretrain"
    encoder_path = pretrain_dir / "encoder.eqx"
    tick = time.perf_counter()
    what = dict(config=dataclasses.asdict(pre_config), data=stage_digest(base / "data"))
    check_stage(pretrain_dir, what, stage="pretraining", note=progress)
    if not encoder_path.exists():
        progress(f"pretraining for {pre_config.steps} steps")
        pretrain(pre_config, pretrain_dir, data=train, progress=progress)
    timings["pretrain_s"] = time.perf_counter() - tick
    encoder = pdessl.load_encoder(encoder_path)
    # Control: the same architecture, untrained, read the same way. It tells how much
    # of an "SSL" score is pretraining and how much is the frozen architecture.
    random_path = pretrain_dir / "untrained-calibrated.eqx"
    if config.controls and not random_path.exists():
        _export_untrained(pre_config, train, random_path)

    results = dict(
        experiment=dataclasses.asdict(config),
        seeds=list(seeds),
        pretrain=dataclasses.asdict(pre_config),
        machine=dict(
            platform=platform.platform(),
            processor=platform.processor() or platform.machine(),
            cpus=_cpu_count(),
            jax=jax.__version__,
            backend=jax.default_backend(),
            pdessl=pdessl.__version__,
        ),
        date=time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    )
    if config.regression:
        tick = time.perf_counter()
        options = dict(config.regression)
        target = options.pop("target")
        if "heads" in options:
            options["heads"] = tuple(options["heads"])
        report = downstream.run_regression(
            encoder, train, test, target, seeds=seeds, progress=progress, **options
        )
        if config.controls:
            control = downstream.run_regression(
                pdessl.load_encoder(random_path),
                train,
                test,
                target,
                seeds=seeds,
                progress=progress,
                **dict(options, supervised=False),
            )
            for method, scores in control["results"].items():
                report["results"][method.replace("ssl_", "untrained_")] = scores
        timings["regression_s"] = time.perf_counter() - tick
        results["regression"] = report
        progress(downstream.format_results(report))
    if config.timestep is not None:
        tick = time.perf_counter()
        modes, ts_config, extra = _timestep_options(config.timestep, config.name)
        results["timestep"] = downstream.timestep_experiment(
            train,
            test,
            modes=modes,
            seeds=seeds,
            config=ts_config,
            encoder=str(encoder_path),
            progress=progress,
            **extra,
        )
        if config.controls and "ssl" in modes:
            control = downstream.timestep_experiment(
                train,
                test,
                modes=("ssl",),
                seeds=seeds,
                config=ts_config,
                encoder=str(random_path),
                progress=progress,
                **extra,
            )
            results["timestep"]["modes"]["ssl_untrained"] = control["modes"]["ssl"]
        timings["timestep_s"] = time.perf_counter() - tick
        progress(downstream.format_timestep_results(results["timestep"]))
    results["timings"] = {k: round(v, 1) for k, v in timings.items()}
    write_json(workdir / "results.json", results)  # whole or not at all
    if figures:
        _figures(workdir, pretrain_dir, results, train, pre_config, progress)
    return results


def _export_untrained(pre_config, train: Path, path: Path) -> None:
    """The same architecture at its initialisation, with BatchNorm statistics of
    unaugmented training crops (a fair control: the pretrained encoder's statistics
    also come from data; never-trained BatchNorms would be the identity)."""
    from pdessl.training import export_untrained

    export_untrained(pre_config, train, path)


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0


def _figures(
    workdir: Path, pretrain_dir: Path, results: dict, train: Path, pre_config, progress
):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        progress("matplotlib is not installed (pip install pdessl[plot]): no figures")
        return
    out = workdir / "figures"
    out.mkdir(exist_ok=True)
    rows = [json.loads(line) for line in open(pretrain_dir / "metrics.jsonl")]
    probe_key = f"probe_nmse_{pre_config.probe_target}"
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.2))
    steps = [r["step"] for r in rows]
    axes[0].plot(steps, [r["loss"] for r in rows], label="total")
    coeffs = (pre_config.sim_coeff, pre_config.std_coeff, pre_config.cov_coeff)
    for term, c in zip(("invariance", "variance", "covariance"), coeffs, strict=True):
        if term in rows[0]:
            axes[0].plot(steps, [c * r[term] for r in rows], label=f"{c:g} x {term}")
    axes[0].set(xlabel="step", ylabel="VICReg loss", title="pretraining loss")
    axes[0].legend(fontsize=7)
    axes[1].plot(steps, [r["repr_std"] for r in rows])
    axes[1].set(xlabel="step", ylabel="mean std", title="representation std")
    ranked = [(r["step"], r["effective_rank"]) for r in rows if "effective_rank" in r]
    if ranked:
        axes[2].plot(*zip(*ranked, strict=True), marker="o")
        axes[2].set(
            xlabel="step",
            ylabel="exp(entropy of singular values)",
            title=f"effective rank (of {pre_config.widths[-1]})",
        )
    else:
        axes[2].set_axis_off()
    probe = [(r["step"], r[probe_key]) for r in rows if probe_key in r]
    if probe:
        axes[3].plot(*zip(*probe, strict=True), marker="o")
        axes[3].set(
            xlabel="step",
            ylabel="NMSE (variance-normalised)",
            title=f"online ridge probe: {pre_config.probe_target} (log if > 3x span)",
        )
    else:
        axes[3].set_axis_off()
    fig.tight_layout()
    fig.savefig(out / "training_curves.png", dpi=120)
    plt.close(fig)
    if "regression" in results:
        _principal_components(
            out / "representation_pca.png", pretrain_dir, train, results, plt
        )
    if "regression" in results:
        report = results["regression"]
        methods = list(report["results"])
        means = [report["results"][m]["nmse"]["mean"] for m in methods]
        stds = [report["results"][m]["nmse"]["std"] for m in methods]
        fig, ax = plt.subplots(figsize=(5, 3.2))
        colours = [f"C{i}" for i in range(len(methods))]
        ax.bar(methods, means, yerr=stds, capsize=4, color=colours)
        ax.tick_params(axis="x", rotation=25)
        ax.set(
            ylabel="test NMSE",
            title=f"{report['target']}: {report['labelled']} labelled, "
            f"{len(report['seeds'])} seeds",
        )
        fig.tight_layout()
        fig.savefig(out / "nmse_bars.png", dpi=120)
        plt.close(fig)
    _augmented_samples(out / "augmented_samples.png", train, pre_config, plt)
    progress(f"figures in {out}")


def _principal_components(path: Path, pretrain_dir: Path, train: Path, results, plt):
    """The first two principal components of the frozen representations of the
    training trajectories, coloured by the regression target (log scale when the
    target is fitted in log space), for the SSL encoder and the untrained control."""
    import pdessl
    from pdessl.downstream._regression import _targets

    report = results["regression"]
    ds = datasets.open_dataset(train).isel(sample=slice(512))
    y = _targets(ds, report["target"]).reshape(ds.sizes["sample"], -1)[:, 0]
    colour = np.log(y) if report["log_target"] else y
    encoders = [("SSL encoder", pretrain_dir / "encoder.eqx")]
    if (pretrain_dir / "untrained-calibrated.eqx").exists():
        encoders.append(
            ("untrained (calibrated)", pretrain_dir / "untrained-calibrated.eqx")
        )
    fig, axes = plt.subplots(1, len(encoders), figsize=(5.2 * len(encoders), 4))
    axes = np.atleast_1d(axes)
    for ax, (title, enc_path) in zip(axes, encoders, strict=True):
        z = pdessl.embed_dataset(pdessl.load_encoder(enc_path), ds).representation
        z = np.asarray(z.values, dtype=np.float64)
        z = (z - z.mean(0)) / (z.std(0) + 1e-12)
        _, sigma, vt = np.linalg.svd(z, full_matrices=False)
        pcs = z @ vt[:2].T
        share = sigma[:2] ** 2 / np.sum(sigma**2)
        m = ax.scatter(pcs[:, 0], pcs[:, 1], c=colour, s=8, cmap="viridis")
        ax.set(
            xlabel=f"PC 1 ({share[0]:.0%} of variance)",
            ylabel=f"PC 2 ({share[1]:.0%})",
            title=title,
        )
        label = f"log {report['target']}" if report["log_target"] else report["target"]
        fig.colorbar(m, ax=ax, label=label)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _augmented_samples(path: Path, train: Path, pre_config, plt):
    """One trajectory's first crop unaugmented, then the two views of one training
    sample exactly as the pretraining step draws them (with independent views, each
    from its own crop), channels as the encoder receives them (field unscaled)."""
    from pdessl import symmetries
    from pdessl.training import batch_views, pretrain_augmentation
    from pdessl.training._pretrain import _fields, _scales, _with_lengths
    from pdessl.training._step import second_view

    ds = datasets.open_dataset(train)
    ct, cs = pre_config.crop_time, pre_config.crop_space
    scales = dataclasses.replace(_scales(ds, pre_config), u=1.0)  # field unscaled
    aug = pretrain_augmentation(pre_config)
    identity = symmetries.identity_augmentation()
    loader = datasets.CropLoader(
        ds,
        batch_size=1,
        crop_time=ct,
        crop_space=cs,
        seed=pre_config.seed,
        variables=() if pre_config.pde == "ns" else ("L",),
        fields=_fields(ds, pre_config),
        views=2 if pre_config.views == "independent" else 1,
    )
    batch = _with_lengths(next(iter(loader.epoch(0))), ds)
    keys = jax.random.split(jax.random.key(1), 2)
    views = [
        batch_views(identity, keys[:1], batch, scales)[0],
        batch_views(aug, keys[:1], batch, scales)[0],
        batch_views(aug, keys[1:], second_view(batch), scales)[0],
    ]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    titles = ("crop (unaugmented)", "view 1", "view 2")
    for ax, v, title in zip(axes, views, titles, strict=True):
        if pre_config.pde == "ns":
            x, y, _, vx, _ = (np.asarray(c) for c in v[:5])  # the first frame
            m = ax.pcolormesh(x, y, vx, shading="auto", cmap="RdBu_r")
            ax.set(xlabel="x channel", ylabel="y channel", title=f"{title}: vx")
        else:
            t, x, field = (np.asarray(c) for c in v)
            m = ax.pcolormesh(x, t, field, shading="auto", cmap="RdBu_r")
            ax.set(xlabel="x channel", ylabel="t channel", title=title)
        fig.colorbar(m, ax=ax)
    fig.suptitle(
        f"Lie point symmetry views ({pre_config.views} crops, "
        f"{pre_config.coordinates} coordinates): transformed coordinates and field"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
