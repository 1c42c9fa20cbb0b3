"""Copy the encoders trained by the CPU experiments into the package
(`pdessl/encoders/NAME.eqx`), each with a model card in its header.

    python experiments/ship_encoders.py SHARED_DIR QUICKSTART_WORKDIR

`SHARED_DIR` is the `--shared` folder of the CPU cells (`experiments/run.py`):
`SHARED_DIR/<stage key>/pretrain/encoder.eqx` and `.../data/train.h5`;
`QUICKSTART_WORKDIR` is a `pdessl quickstart` work directory. Each encoder is matched
to its experiment by content, not by folder name: the pretraining configuration in
its header equals the one the experiment file gives, its training file holds the
experiment's recipe and number of unlabelled trajectories, its metrics log reaches
the last step, and the experiment's results file (`experiments/results/`) records the
same pretraining configuration. Exactly one encoder must match (folders holding
byte-identical encoders count as one). The network bytes
are copied unchanged; only the header line gains a `card`.
"""

import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

import pdessl
from pdessl import datasets
from pdessl.experiment import load_experiment
from pdessl.training import load_config

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "pdessl" / "encoders"

# name -> (experiment config, results files of the experiments that used this
# encoder: a regression cell and the time-stepping cell of the same PDE share one).
# The ablations are not shipped (each removes a part of the recipe on purpose).
_R = "experiments/results"
SHIPPED = {
    "burgers-tiny": (
        "experiments/configs/cpu/burgers_viscosity.toml",
        [
            f"{_R}/cpu-burgers/burgers-viscosity-cpu.json",
            f"{_R}/cpu-burgers/burgers-timestep-cpu.json",
        ],
    ),
    "quickstart": (
        "pdessl/experiment_configs/quickstart.toml",
        [f"{_R}/quickstart.json"],
    ),
    "kdv-tiny": (
        "experiments/configs/cpu/kdv_ic.toml",
        [
            f"{_R}/cpu-kdv-ks-ns/kdv-ic-cpu.json",
            f"{_R}/cpu-kdv-ks-ns/kdv-timestep-cpu.json",
        ],
    ),
    "ks-tiny": (
        "experiments/configs/cpu/ks_ic.toml",
        [
            f"{_R}/cpu-kdv-ks-ns/ks-ic-cpu.json",
            f"{_R}/cpu-kdv-ks-ns/ks-timestep-cpu.json",
        ],
    ),
    "ns-tiny": (
        "experiments/configs/cpu/ns_buoyancy.toml",
        [f"{_R}/cpu-kdv-ks-ns/ns-buoyancy-cpu.json"],
    ),
    "ns-tiny-long": (
        "experiments/configs/cpu/ns_timestep.toml",
        [f"{_R}/cpu-ns-timestep/ns-timestep-cpu.json"],
    ),
}


def _pretrain_config(experiment):
    section = dict(experiment.pretrain)
    return load_config(section.pop("preset", "tiny"), **section)


def _summary(scores: dict) -> str:
    return f"{scores['mean']:.4g} ± {scores['std']:.2g}"


def _results_card(results: dict) -> dict:
    """The headline numbers of an experiment's results.json."""
    card = {}
    if "regression" in results:
        reg = results["regression"]
        card["regression"] = dict(
            target=reg["target"],
            labelled=reg["labelled"],
            test_samples=reg["test_samples"],
            seeds=len(reg["seeds"]),
            nmse={m: _summary(s["nmse"]) for m, s in reg["results"].items()},
            rel_l1={m: _summary(s["rel_l1"]) for m, s in reg["results"].items()},
        )
    if "timestep" in results:
        modes = results["timestep"]["modes"]
        card["timestep"] = dict(
            seeds=len(results["timestep"]["seeds"]),
            rollout_nmse={
                m: f"{v['rollout_mean']:.4g} ± {v['rollout_std']:.2g}"
                for m, v in modes.items()
            },
        )
    return card


def _grid(train: Path) -> dict:
    """The training data's grid, from the file the encoder was trained on."""
    ds = datasets.open_dataset(train)
    field = ds.vx if "vx" in ds else ds.u
    out = dict(
        points=[int(n) for n in field.shape[2:]],
        frames=int(field.shape[1]),
        dt=[float(ds.dt.min()), float(ds.dt.max())],
        dx=[float(ds.dx.min()), float(ds.dx.max())],
        trajectories=int(ds.sizes["sample"]),
    )
    if "dy" in ds:
        out["dy"] = [float(ds.dy.min()), float(ds.dy.max())]
    return out


def _header(encoder_path: Path) -> tuple[dict, bytes]:
    header_line, _, payload = encoder_path.read_bytes().partition(b"\n")
    return json.loads(header_line), payload


def _made_by(folder: Path, experiment, expected: dict) -> bool:
    """Whether `folder` (data/ and pretrain/) holds this experiment's encoder."""
    encoder_path = folder / "pretrain" / "encoder.eqx"
    train = folder / "data" / "train.h5"
    if not (encoder_path.is_file() and train.is_file()):
        return False
    if _header(encoder_path)[0]["config"] != expected:
        return False
    rows = (folder / "pretrain" / "metrics.jsonl").read_text().splitlines()
    if json.loads(rows[-1])["step"] != expected["steps"]:
        return False
    with datasets.open_dataset(train) as ds:
        recipe = datasets.load_recipe(experiment.recipe)
        return (
            ds.sizes["sample"] == experiment.unlabelled
            and ds.attrs.get("recipe") == recipe.source
        )


def ship(name: str, config_path: str, results_paths: list[str], candidates):
    experiment = load_experiment(ROOT / config_path)
    pre = _pretrain_config(experiment)
    expected = json.loads(json.dumps(dataclasses.asdict(pre)))
    found = [f for f in candidates if _made_by(f, experiment, expected)]
    # Training is deterministic: two runs of one configuration on the same data
    # (the quick start and the batch-64 ablation) give byte-identical encoders.
    files = {(f / "pretrain" / "encoder.eqx").read_bytes() for f in found}
    if len(files) != 1:
        raise SystemExit(f"{name}: {len(found)} folders match ({found}), not one.")
    folder = found[-1]
    encoder_path = folder / "pretrain" / "encoder.eqx"
    header, payload = _header(encoder_path)
    results_card, used_by = {}, []
    for path in results_paths:
        results = json.loads((ROOT / path).read_text())
        same_data = all(
            results["experiment"][k] == getattr(experiment, k)
            for k in ("recipe", "unlabelled", "test")
        )
        if results["pretrain"] != expected or not same_data:
            raise SystemExit(f"{name}: {path} did not use this encoder.")
        results_card.update(_results_card(results))
        used_by.append(results["experiment"]["name"])
    results = json.loads((ROOT / results_paths[0]).read_text())
    recipe = datasets.load_recipe(experiment.recipe)
    header["card"] = dict(
        name=name,
        experiment=experiment.name,
        used_by=used_by,
        experiment_config=config_path,
        command=f"pdessl experiment {config_path}",
        recipe=Path(experiment.recipe).stem,
        recipe_source=recipe.source,
        grid=_grid(folder / "data" / "train.h5"),
        crop=[pre.crop_time, pre.crop_space],
        pretraining=dict(
            steps=pre.steps,
            batch_size=pre.batch_size,
            unlabelled=experiment.unlabelled,
            widths=list(pre.widths),
            representation_dim=pre.widths[-1],
            field_scaling=pre.field_scaling,
        ),
        results=results_card,
        results_files=results_paths,
        date=results["date"],
        pdessl_version=results["machine"]["pdessl"],
        shipped=time.strftime("%Y-%m-%d"),
    )
    OUT.mkdir(exist_ok=True)
    out = OUT / f"{name}.eqx"
    out.write_bytes(json.dumps(header).encode() + b"\n" + payload)
    # The copy must embed exactly as the original.
    ds = datasets.open_dataset(folder / "data" / "train.h5").isel(sample=slice(4))
    a = pdessl.embed_dataset(pdessl.load_encoder(encoder_path), ds).representation
    b = pdessl.embed_dataset(pdessl.load_encoder(out), ds).representation
    if not np.array_equal(a.values, b.values):
        raise SystemExit(f"{name}: the shipped copy embeds differently.")
    return out, folder


def main(shared: str, quickstart: str) -> None:
    candidates = [*sorted(Path(shared).iterdir()), Path(quickstart)]
    for name, (config_path, results_paths) in SHIPPED.items():
        out, folder = ship(name, config_path, results_paths, candidates)
        print(f"{name}: {folder} -> {out.relative_to(ROOT)} ({out.stat().st_size} B)")


if __name__ == "__main__":
    main(*sys.argv[1:])
