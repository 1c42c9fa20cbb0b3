"""Issue 17 diagnostics on trained encoders: the equivariance table (VICReg, JEPA,
JEPA + symmetries, the untrained control) and, for the JEPA encoders, a decoder on
the frozen encoder, the decoded latent rollout's error and its figure.

python experiments/jepa/analyse.py --test DATA/test.h5 --train DATA/train.h5 \
    --encoder vicreg=PATH/encoder.eqx --encoder jepa=PATH/encoder.eqx ... \
    --predictor jepa=PATH/predictor.eqx --out experiments/results/jepa-diagnostics
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

import pdessl
from pdessl import datasets
from pdessl.downstream import encoder_equivariance, format_equivariance
from pdessl.downstream._decoder import fit_decoder, rollout_errors
from pdessl.training._jepa_step import load_predictor


def _pairs(items):
    return dict(item.split("=", 1) for item in items)


def _figure(path, name, arrays, frames_ahead):
    """The test trajectory that changes most over the rollout (the largest
    persistence error at the last step): the others look alike at a glance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = len(frames_ahead)
    change = np.sum((arrays["true"][:, -1] - arrays["context"]) ** 2, axis=(1, 2))
    trajectory = int(np.argmax(change))
    fig, axes = plt.subplots(2, steps + 1, figsize=(3 * (steps + 1), 5.5))
    context = arrays["context"][trajectory]
    vmax = float(np.max(np.abs(arrays["true"][trajectory])))
    kw = dict(aspect="auto", origin="lower", cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    axes[0, 0].imshow(context, **kw)
    axes[0, 0].set_title("context (input)")
    axes[1, 0].axis("off")
    for k in range(steps):
        axes[0, k + 1].imshow(arrays["true"][trajectory, k], **kw)
        axes[0, k + 1].set_title(f"true, +{frames_ahead[k]} frames")
        axes[1, k + 1].imshow(arrays["decoded"][trajectory, k], **kw)
        decoded, true = arrays["decoded"][trajectory, k], arrays["true"][trajectory, k]
        err = np.sum((decoded - true) ** 2) / np.sum(true**2)
        axes[1, k + 1].set_title(f"decoded rollout {k + 1}, NMSE {err:.2f}")
    for ax in axes.flat:
        ax.set_xlabel("x (grid points)")
        ax.set_ylabel("t (frames)")
    fig.suptitle(
        f"{name}: decoded latent rollout vs the true trajectory (test sample "
        f"{trajectory}; fields standardised per crop)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--encoder", action="append", default=[])
    parser.add_argument("--predictor", action="append", default=[])
    parser.add_argument("--crops", type=int, default=512)
    parser.add_argument("--decoder-steps", type=int, default=3000)
    parser.add_argument("--out", required=True)
    parser.add_argument("--figures", default="experiments/figures")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    encoders = {k: pdessl.load_encoder(v) for k, v in _pairs(args.encoder).items()}
    test = datasets.open_dataset(args.test)
    tick = time.perf_counter()
    table = {}
    for name, enc in encoders.items():
        table[name] = encoder_equivariance(enc, test, crops=args.crops)
        print(name, json.dumps(table[name]))
    (out / "equivariance.json").write_text(json.dumps(table, indent=1) + "\n")
    (out / "equivariance.md").write_text(format_equivariance(table))
    print(format_equivariance(table), f"({time.perf_counter() - tick:.0f} s)")

    rollouts = {}
    for name, path in _pairs(args.predictor).items():
        predictor, _ = load_predictor(path)
        decoder = fit_decoder(encoders[name], args.train, steps=args.decoder_steps)
        rollouts[name] = {}
        for delta, steps in ((8, 2), (4, 4)):
            r = rollout_errors(
                encoders[name], predictor, decoder, test, delta=delta, steps=steps
            )
            arrays = r.pop("arrays")
            rollouts[name][f"delta{delta}"] = r
            print(name, delta, json.dumps(r))
            if delta == 8:
                _figure(
                    Path(args.figures) / f"jepa_latent_rollout_{name}.png",
                    name,
                    arrays,
                    r["frames_ahead"],
                )
    (out / "rollout.json").write_text(json.dumps(rollouts, indent=1) + "\n")


if __name__ == "__main__":
    main()
