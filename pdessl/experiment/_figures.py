"""The figures of an experiment run: training curves, results, representation
PCA and augmented samples."""

import dataclasses
import json
from pathlib import Path

import jax
import numpy as np

from pdessl import datasets, pdes


def figures(
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
    from pdessl.downstream import regression_targets

    report = results["regression"]
    ds = datasets.open_dataset(train).isel(sample=slice(512))
    y = regression_targets(ds, report["target"]).reshape(ds.sizes["sample"], -1)[:, 0]
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
    from pdessl.training import (
        batch_views,
        channel_scales,
        pretrain_augmentation,
        second_view,
        view_fields,
        with_lengths,
    )

    ds = datasets.open_dataset(train)
    ct, cs = pre_config.crop_time, pre_config.crop_space
    scales = dataclasses.replace(
        channel_scales(ds, pre_config), u=1.0
    )  # field unscaled
    aug = pretrain_augmentation(pre_config)
    identity = symmetries.identity_augmentation()
    loader = datasets.CropLoader(
        ds,
        batch_size=1,
        crop_time=ct,
        crop_space=cs,
        seed=pre_config.seed,
        variables=pdes.get(pre_config.pde).loader_variables(),
        fields=view_fields(ds, pre_config),
        views=2 if pre_config.views == "independent" else 1,
    )
    batch = with_lengths(next(iter(loader.epoch(0))), ds)
    keys = jax.random.split(jax.random.key(1), 2)
    views = [
        batch_views(identity, keys[:1], batch, scales)[0],
        batch_views(aug, keys[:1], batch, scales)[0],
        batch_views(aug, keys[1:], second_view(batch), scales)[0],
    ]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    titles = ("crop (unaugmented)", "view 1", "view 2")
    for ax, v, title in zip(axes, views, titles, strict=True):
        if pdes.get(pre_config.pde).ndim == 2:
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
