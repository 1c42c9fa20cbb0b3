"""Bar charts of the experiment results: regression NMSE (SSL probes vs supervised)
and time-stepping rollout NMSE (no / ground-truth / SSL conditioning), mean ± std over
seeds, from the `results.json` files collected by `experiments/run.py`.

python experiments/figures/results_bars.py experiments/results/cpu/*.json \
    --out experiments/figures/cpu_results.png
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _has(report: dict, method: str) -> bool:
    return method in report.get("results", report.get("modes", {}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    runs = {Path(p).stem: json.loads(Path(p).read_text()) for p in args.results}
    reg = {k: v["regression"] for k, v in runs.items() if "regression" in v}
    ts = {k: v["timestep"] for k, v in runs.items() if "timestep" in v}
    panels = [p for p in (reg, ts) if p]
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 3.8))
    axes = [axes] if len(panels) == 1 else list(axes)
    for ax, panel in zip(axes, panels, strict=True):
        names = sorted(panel)
        if panel is reg:
            # best_constant: the reference a learned method must beat.
            methods = ["ssl_linear", "ssl_mlp", "untrained_linear", "supervised"]
            methods += ["best_constant"]

            def stat(r, m, k):
                return r["results"][m]["nmse"][k]

            ax.set_title("regression: test NMSE (lower is better)")
        else:
            methods = ["none", "params", "ssl", "ssl_untrained"]

            def stat(r, m, k):
                return r["modes"][m][f"rollout_{k}"]

            ax.set_title("time-stepping: rollout NMSE (lower is better)")
        methods = [m for m in methods if all(_has(panel[n], m) for n in names)]
        width = 0.8 / len(methods)
        for j, m in enumerate(methods):
            xs = [i + (j - (len(methods) - 1) / 2) * width for i in range(len(names))]
            means = [stat(panel[n], m, "mean") for n in names]
            stds = [stat(panel[n], m, "std") for n in names]
            ax.bar(xs, means, width, yerr=stds, capsize=3, label=m)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(
            [n.replace("-cpu", "") for n in names], rotation=20, ha="right"
        )
        ax.set_yscale("log")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
