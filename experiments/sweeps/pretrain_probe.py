"""Quick representation sweep: pretrain with overrides of the quick start's
pretraining section, then score linear probes of the target on 64 labels over
3 seeds, next to the best constant and the physics estimator.

    python experiments/sweeps/pretrain_probe.py NAME '{"steps": 1000, ...}' \
        [--root runs/sweeps] [--controls]

Data (the quick start's 1,024 + 256 burgers-tiny trajectories) are generated once
under ROOT/data; each run writes ROOT/NAME/{pretrain/,result.json} and appends one
line to ROOT/results.jsonl.
"""

import argparse
import json
import time
from pathlib import Path

import pdessl
from pdessl import datasets, downstream
from pdessl.experiment import load_experiment
from pdessl.training import export_untrained, load_config, pretrain


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("overrides", help="JSON object of PretrainConfig overrides")
    parser.add_argument("--root", default="runs/sweeps")
    parser.add_argument("--experiment", default="quickstart")
    parser.add_argument("--controls", action="store_true")
    parser.add_argument("--mlp", action="store_true")
    args = parser.parse_args()
    exp = load_experiment(args.experiment)
    root = Path(args.root)
    data = root / "data" / exp.recipe
    data.mkdir(parents=True, exist_ok=True)
    paths = {}
    for split, n in (("train", exp.unlabelled), ("test", exp.test)):
        paths[split] = data / f"{split}.h5"
        if not paths[split].exists():
            datasets.generate(
                datasets.load_recipe(exp.recipe),
                split,
                paths[split],
                num_samples=n,
                progress=False,
            )
    section = dict(exp.pretrain)
    preset = section.pop("preset", "tiny")
    section.update(json.loads(args.overrides))
    config = load_config(preset, **section)
    workdir = root / args.name
    tick = time.perf_counter()
    if not (workdir / "pretrain" / "encoder.eqx").exists():
        pretrain(config, workdir / "pretrain", data=paths["train"], progress=print)
    pretrain_s = time.perf_counter() - tick
    options = dict(exp.regression)
    target = options.pop("target")
    heads = ("linear", "mlp") if args.mlp else ("linear",)
    encoders = {"ssl": workdir / "pretrain" / "encoder.eqx"}
    if args.controls:
        encoders["untrained"] = workdir / "pretrain" / "untrained-calibrated.eqx"
        if not encoders["untrained"].exists():
            export_untrained(config, paths["train"], encoders["untrained"])
    out = dict(name=args.name, overrides=json.loads(args.overrides))
    for label, path in encoders.items():
        report = downstream.run_regression(
            pdessl.load_encoder(path),
            paths["train"],
            paths["test"],
            target,
            labelled=options.get("labelled", 64),
            heads=heads,
            supervised=False,
            progress=lambda *_: None,
        )
        print(label, downstream.format_results(report), sep="\n")
        for method, scores in report["results"].items():
            out[method.replace("ssl_", label + "_")] = {
                k: (v["mean"], v["std"]) for k, v in scores.items()
            }
    rows = [json.loads(line) for line in open(workdir / "pretrain" / "metrics.jsonl")]
    last = [r for r in rows if "effective_rank" in r][-1]
    out.update(
        pretrain_s=round(pretrain_s, 1),
        effective_rank=last["effective_rank"],
        online_probe=last[f"probe_nmse_{config.probe_target}"],
        invariance=last["invariance"],
    )
    (workdir / "result.json").write_text(json.dumps(out, indent=1))
    with open(root / "results.jsonl", "a") as f:
        f.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
