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

from pdessl import datasets
from pdessl._fingerprint import check_stage, stage_digest
from pdessl.outputs import write_json
from pdessl.tomlfile import check_keys, read_toml, shipped_tomls

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
    check_keys(data, fields, f"{name}: unknown key(s)")
    missing = {"name", "recipe", "unlabelled", "test"} - set(data)
    if missing:
        raise ValueError(f"{name}: missing key(s) {sorted(missing)}.")
    if "seeds" in data:
        data["seeds"] = tuple(int(s) for s in data["seeds"])
    check_keys(
        data.get("regression") or {},
        REGRESSION_KEYS,
        f"{name}: unknown [regression] key(s)",
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
    check_keys(section, fields | TIMESTEP_KEYS, f"{name}: unknown [timestep] key(s)")
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
        from ._figures import figures

        figures(workdir, pretrain_dir, results, train, pre_config, progress)
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
