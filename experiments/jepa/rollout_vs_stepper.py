"""Issue 17: the decoded JEPA latent rollout against a conditioned time-stepper's
rollout at the same horizons, on the same per-crop standardised crops.

python experiments/jepa/rollout_vs_stepper.py --encoder RUN/pretrain/encoder.eqx \
    --predictor RUN/pretrain/predictor.eqx --train RUN/data/train.h5 \
    --test RUN/data/test.h5

What is compared (`pdessl.downstream._decoder`, module docstring): the JEPA context
is each test trajectory's first crop (frames 0..crop_time-1, the first crop_space
points); the latent rollout predicts the crops kΔ frames later and a decoder fitted
on the frozen encoder turns them into (standardised) fields. The time-stepper
(TimestepConfig of experiments/configs/cpu/burgers_timestep.toml: time window 8,
500 steps) starts from the last `time_window` frames of the same context and is
conditioned on nothing ("none") or on the encoder's representation of the context
frames ("ssl": `ssl_condition` over crop_time frames, averaged over the spatial
crops, standardised with training statistics); its rollout fills in the frames after
the context, and the result is cut and standardised exactly like the true crops.
Persistence (the context crop) and the decoder floor (the decoded true crop) frame
the numbers. Each NMSE is per crop, averaged over test trajectories (and over
time-stepper seeds).
"""

import argparse
import dataclasses
import json
import shlex
import sys
import time
from pathlib import Path

import jax
import numpy as np

import pdessl
from pdessl import datasets
from pdessl.downstream import (
    Standardiser,
    TimestepConfig,
    make_timestepper,
    ssl_condition,
    train_timestepper,
)
from pdessl.downstream._decoder import fit_decoder, rollout_errors, stepper_trajectories
from pdessl.training._jepa_step import load_predictor

MODES = ("ssl", "none")
NOTES = """\
What each forecast may use. The JEPA context is one crop: frames 0..{last} of the
first {cs} grid points, standardised by its own mean and std. The time-stepper
starts from the last {tw} frames of the same frames ({first}..{last}), so neither
sees a frame after the context; but it sees the whole periodic domain (a stepper
cannot step half a domain), i.e. more space than the JEPA crop, and the raw
amplitude; "ssl" adds the encoder's representation of frames 0..{last} averaged
over the domain's spatial crops (standardised with training statistics). So the
stepper holds at least the JEPA context's information, plus the rest of the domain.
A crop k frames ahead overlaps the context when k < {ct}: its first {ct} - k frames
are then given to the stepper (they are its input) while the decoded rollout must
reproduce them; only the crop {ct} frames ahead is predicted entirely by both. The
decoder floor (the decoded representation of the true crop) bounds what a decoded
rollout can reach; persistence repeats the context crop. The raw-crop columns are
the stepper's NMSE on the same windows before standardisation. (The Table 1
time-stepping cell instead rolls out from frames 0..{tw_last} and conditions on
them; here both are moved to the JEPA context.)"""


def _figure(path, arrays, frames_ahead, samples, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [
        ("true", "true"),
        ("decoded", "decoded latent rollout"),
        ("stepper_ssl", "time-stepper (ssl)"),
        ("stepper_none", "time-stepper (none)"),
    ]
    steps = len(frames_ahead)
    fig, axes = plt.subplots(
        len(rows) * len(samples),
        steps + 1,
        figsize=(3 * (steps + 1), 2.3 * len(rows) * len(samples)),
        squeeze=False,
    )
    for j, n in enumerate(samples):
        vmax = float(np.max(np.abs(arrays["true"][n])))
        kw = dict(aspect="auto", origin="lower", cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        for i, (key, label) in enumerate(rows):
            r = j * len(rows) + i
            if i == 0:
                axes[r, 0].imshow(arrays["context"][n], **kw)
                axes[r, 0].set_title(f"test sample {n}: context", size=9)
            else:
                axes[r, 0].axis("off")
            for k in range(steps):
                pred, true = arrays[key][n, k], arrays["true"][n, k]
                axes[r, k + 1].imshow(pred, **kw)
                err = np.sum((pred - true) ** 2) / np.sum(true**2)
                tail = "" if key == "true" else f", NMSE {err:.2f}"
                axes[r, k + 1].set_title(f"{label}, +{frames_ahead[k]}{tail}", size=9)
    for ax in axes.flat:
        ax.set_xlabel("x (grid points)", size=8)
        ax.set_ylabel("t (frames)", size=8)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _table(r: dict, crop_time: int, context: int) -> list[str]:
    lines = [
        "| frames ahead | crop frames | decoded latent rollout | time-stepper ssl "
        "| time-stepper none | persistence | decoder floor | stepper ssl, raw crop "
        "| stepper none, raw crop |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for k, ahead in enumerate(r["frames_ahead"]):
        cells = [
            r[c][k]
            for c in (
                "rollout",
                "stepper_ssl",
                "stepper_none",
                "persistence",
                "decoder_floor",
                "stepper_ssl_raw",
                "stepper_none_raw",
            )
        ]
        after = min(crop_time, ahead + crop_time - context)
        frames = f"{ahead}-{ahead + crop_time - 1} ({after} after the context)"
        lines.append(
            f"| {ahead} | {frames} | " + " | ".join(f"{c:.2e}" for c in cells) + " |"
        )
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", required=True)
    parser.add_argument("--predictor", required=True)
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--test-samples", type=int, default=256)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--decoder-steps", type=int, default=3000)
    parser.add_argument("--stepper-steps", type=int, default=500)
    parser.add_argument("--out", default="experiments/results/jepa-rollout-vs-stepper")
    parser.add_argument(
        "--figure", default="experiments/figures/jepa_rollout_vs_stepper.png"
    )
    args = parser.parse_args()
    tick = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - tick:6.0f} s] {msg}", flush=True)

    encoder = pdessl.load_encoder(args.encoder)
    objective = encoder.header["config"].get("objective")
    if objective != "jepa":
        raise SystemExit(f"{args.encoder} is a {objective!r} encoder, not a JEPA one.")
    predictor, _ = load_predictor(args.predictor)
    train = datasets.open_dataset(args.train).load()
    test = datasets.open_dataset(args.test).isel(sample=slice(0, args.test_samples))
    test = test.load()
    context = encoder.crop_time
    config = TimestepConfig(time_window=8, steps=args.stepper_steps)

    decoder = fit_decoder(encoder, train, steps=args.decoder_steps, progress=log)
    log("decoder fitted")

    u_train = np.asarray(train.u.values, np.float32)
    u_test = np.asarray(test.u.values, np.float32)
    scale = float(np.std(u_train))
    enc = (encoder.network, encoder.state, encoder.header)
    raw = ssl_condition(train, *enc, context)
    std = Standardiser.fit(raw)
    conditions = dict(
        none=(None, None), ssl=(std(raw), std(ssl_condition(test, *enc, context)))
    )
    forecasts, full_raw = {}, {m: [] for m in MODES}
    for mode in MODES:
        c_train, c_test = conditions[mode]
        for seed in args.seeds:
            k_init, k_train = jax.random.split(jax.random.key(seed))
            model = make_timestepper(
                config, 0 if c_train is None else c_train.shape[1], key=k_init
            )
            model, _ = train_timestepper(
                model, u_train / scale, c_train, config, key=k_train
            )
            filled = stepper_trajectories(
                model,
                u_test,
                c_test,
                context=context,
                time_window=config.time_window,
                scale=scale,
            )
            forecasts[f"stepper_{mode}_s{seed}"] = filled
            # The stepper's usual metric: raw NMSE of the whole predicted field.
            err = np.sum((filled - u_test)[:, context:] ** 2, axis=(1, 2))
            full_raw[mode].append(
                float(np.mean(err / np.sum(u_test[:, context:] ** 2, axis=(1, 2))))
            )
            log(f"time-stepper {mode} seed {seed}: raw NMSE {full_raw[mode][-1]:.4f}")

    results = dict(
        encoder=str(args.encoder),
        predictor=str(args.predictor),
        test_samples=int(test.sizes["sample"]),
        seeds=args.seeds,
        context_frames=context,
        crop=[encoder.crop_time, encoder.crop_space],
        timestep_config=dataclasses.asdict(config),
        stepper_raw_nmse_frames_after_context={
            m: float(np.mean(v)) for m, v in full_raw.items()
        },
        stepper_raw_nmse_frames_after_context_per_seed=full_raw,
        horizons={},
    )
    figure_arrays = None
    for delta, steps in ((8, 2), (4, 4)):
        r = rollout_errors(
            encoder,
            predictor,
            decoder,
            test,
            delta=delta,
            steps=steps,
            trajectories=forecasts,
        )
        arrays = r.pop("arrays")
        for mode in MODES:
            for suffix in ("", "_raw"):
                name = f"stepper_{mode}{suffix}"
                per_seed = [r.pop(f"stepper_{mode}_s{s}{suffix}") for s in args.seeds]
                r[name] = np.mean(per_seed, axis=0).tolist()
                r.setdefault("per_seed", {})[name] = per_seed
            arrays[f"stepper_{mode}"] = arrays[f"stepper_{mode}_s{args.seeds[0]}"]
        results["horizons"][f"delta{delta}"] = r
        log(f"delta {delta}: {json.dumps(r)}")
        if delta == 8:
            figure_arrays = (arrays, r["frames_ahead"])

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    arrays, frames_ahead = figure_arrays
    # The trajectory that changes most over the rollout, and the first one.
    change = np.sum((arrays["true"][:, -1] - arrays["context"]) ** 2, axis=(1, 2))
    samples = sorted({0, int(np.argmax(change))})
    _figure(
        args.figure,
        arrays,
        frames_ahead,
        samples,
        "JEPA decoded latent rollout vs conditioned time-stepper (fields standardised "
        "per crop)",
    )
    command = shlex.join(["python", *sys.argv])
    lines = [
        "# JEPA decoded latent rollout vs conditioned time-stepper (issue 17)",
        "",
        "```",
        command,
        "```",
        "",
        f"Encoder `{args.encoder}`, {results['test_samples']} test trajectories, "
        f"time-stepper seeds {args.seeds}. NMSE per crop "
        f"({encoder.crop_time} frames x {encoder.crop_space} points), averaged over "
        "test trajectories; all columns but the raw ones on per-crop standardised "
        "crops. Raw NMSE of the time-stepper over all frames after the context "
        "(the whole domain): "
        + ", ".join(
            f"{m} {v:.2e}"
            for m, v in results["stepper_raw_nmse_frames_after_context"].items()
        )
        + ".",
    ]
    for name, r in results["horizons"].items():
        lines += [
            "",
            f"Rollout steps of {name[5:]} frames:",
            "",
            *_table(r, encoder.crop_time, context),
        ]
    lines += [
        "",
        NOTES.format(
            ct=context,
            cs=encoder.crop_space,
            tw=config.time_window,
            first=context - config.time_window,
            last=context - 1,
            tw_last=config.time_window - 1,
        ),
    ]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    log(f"wrote {out}.json/.md and {args.figure}")


if __name__ == "__main__":
    main()
