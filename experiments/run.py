"""Run a set of experiment configs over seeds and collect the results in one table.

python experiments/run.py experiments/configs/cpu/*.toml --workroot runs/experiments \
    --summary experiments/results/cpu.md

Each config runs in `WORKROOT/NAME`; data and encoders go to `WORKROOT/_shared/`,
shared by configs with the same data and pretraining (resumable: re-running skips
finished data and pretraining); its `results.json` is copied to `experiments/results/SIZE/NAME.json`
next to the summary, and the summary is a Markdown table of every method's test
NMSE and relative L1 error (mean ± std over seeds) with the stage timings.
"""

import argparse
import json
import shutil
import time
from pathlib import Path

from pdessl.experiment import load_experiment, run_experiment


def _row(name: str, results: dict) -> list[str]:
    rows = []
    timings = results.get("timings", {})
    minutes = sum(timings.values()) / 60
    if "regression" in results:
        report = results["regression"]
        for method, scores in report["results"].items():
            nmse, l1 = scores["nmse"], scores["rel_l1"]
            rows.append(
                f"| {name} | {report['target']} ({report['labelled']} labelled) "
                f"| {method} | {nmse['mean']:.4g} ± {nmse['std']:.2g} "
                f"| {l1['mean']:.4g} ± {l1['std']:.2g} | {minutes:.1f} |"
            )
    if "timestep" in results:
        ts = results["timestep"]
        window = ts["config"]["time_window"]
        for mode, runs in ts["modes"].items():
            rows.append(
                f"| {name} | rollout, window {window} | {mode} "
                f"| {runs['rollout_mean']:.4g} ± {runs['rollout_std']:.2g} "
                f"| | {minutes:.1f} |"
            )
    return rows


def summary_from_json(paths) -> str:
    """The summary table of already collected `results.json` files."""
    lines = [
        "| experiment | task | method | test NMSE | rel. L1 | minutes |",
        "|---|---|---|---|---|---|",
    ]
    for path in paths:
        results = json.loads(Path(path).read_text())
        lines += _row(results["experiment"]["name"], results)
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+")
    parser.add_argument("--workroot", default="runs/experiments")
    parser.add_argument("--seeds", default=None, help="override, e.g. 0,1,2")
    parser.add_argument("--summary", default=None, help="Markdown table to write")
    args = parser.parse_args()
    seeds = tuple(int(s) for s in args.seeds.split(",")) if args.seeds else None
    lines = [
        "| experiment | task | method | test NMSE | rel. L1 | minutes |",
        "|---|---|---|---|---|---|",
    ]
    for path in args.configs:
        config = load_experiment(path)
        print(f"== {config.name}: {config.description}")
        tick = time.perf_counter()
        results = run_experiment(
            config,
            Path(args.workroot) / config.name,
            seeds=seeds,
            shared=Path(args.workroot) / "_shared",
        )
        print(f"== {config.name} done in {time.perf_counter() - tick:.0f} s")
        lines += _row(config.name, results)
        if args.summary:
            folder = Path(args.summary).with_suffix("")
            folder.mkdir(parents=True, exist_ok=True)
            src = Path(args.workroot) / config.name / "results.json"
            shutil.copy(src, folder / f"{config.name}.json")
    table = "\n".join(lines)
    print(table)
    if args.summary:
        Path(args.summary).write_text(table + "\n")
        print(f"wrote {args.summary}")


if __name__ == "__main__":
    main()
