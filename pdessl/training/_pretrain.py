"""The pretraining loop: data, model, optimiser, on-device augmented views, JSONL
metrics, orbax checkpoints with automatic resume, preemption saves, NaN guard,
encoder export.

Data-parallel over all devices of all processes (`NamedSharding` on a `data` mesh
axis, `jax.distributed` for several processes). 1-D PDE data are cropped to
`crop_time x crop_space` images with channels $(t, x, u)$; Navier–Stokes data
(`pde = "ns"`) to `crop_time` frames of `crop_space^2` with channels
$(x, y, t, v_x, v_y)$ per frame.
"""

import contextlib
import math
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from pdessl import datasets, pdes, symmetries
from pdessl.models import Projector, ResNet, batched
from pdessl.progress import step_bar

from ._checkpoints import Checkpoints
from ._config import PretrainConfig
from ._data import batches_from, data_parallel, training_file
from ._data_pde import check_data_pde
from ._export import export_encoder
from ._jepa_step import (
    JEPAModel,
    export_predictor,
    jepa_settings,
    jepa_train_step,
    jepa_window,
    make_predictor,
)
from ._metrics import MetricsWriter, summary_writer_class
from ._optim import build_optimizer
from ._preemption import PreemptionNotice
from ._probe import effective_rank, ridge_probe_nmse
from ._step import ChannelScales, SSLModel, batch_views, train_step


def pretrain_augmentation(config: PretrainConfig) -> symmetries.Augmentation:
    """The views' symmetry group: the PDE's generators at their default strengths,
    overridden by `config.symmetries`; the projective map only when asked for. With
    every generator disabled and independent crops, the identity (crop-only views)."""
    strengths = dict(config.symmetries)
    gens = pdes.default_generators(config.pde, **strengths)
    if "projective" not in strengths:
        gens = tuple(g for g in gens if g.name != "projective")
    if not gens:
        if config.views == "independent":
            # Crop-only views (the "no symmetries" ablation): the identity map.
            return symmetries.identity_augmentation()
        raise ValueError(
            "config.symmetries disables every generator and views = 'same_crop': "
            "the two views would be identical; keep at least one generator or use "
            "views = 'independent'."
        )
    return symmetries.Augmentation(gens, config.trotter_order, config.trotter_steps)


def build(config: PretrainConfig):
    k1, k2 = jax.random.split(jax.random.key(config.seed))
    (encoder, projector), state = eqx.nn.make_with_state(
        lambda: (
            ResNet(
                pdes.get(config.pde).in_channels(config.crop_time),
                widths=config.widths,
                depths=config.depths,
                imagenet_stem=config.imagenet_stem,
                group_norm=config.group_norm,
                key=k1,
            ),
            Projector(config.widths[-1], config.projector, key=k2)
            if config.objective == "vicreg"
            else make_predictor(
                config,
                config.widths[-1],
                len(pretrain_augmentation(config).generators),
                k2,
            ),
        )
    )()
    model = (SSLModel if config.objective == "vicreg" else JEPAModel)(
        encoder, projector
    )
    optimizer, schedule = build_optimizer(config)
    opt_state = optimizer.init(eqx.filter(model, eqx.is_inexact_array))
    return model, state, optimizer, opt_state, schedule


def view_fields(ds, config) -> tuple[str, ...]:
    """The fields fed to the network: `u` for 1-D PDEs; the velocity for NS (the
    official recipe leaves the smoke out)."""
    pde = pdes.get(config.pde)
    fields, ndim = pde.view_fields, pde.ndim + 2
    if any(f not in ds or ds[f].ndim != ndim for f in fields):
        raise ValueError(
            f"pde {config.pde!r} needs fields {fields} with {ndim - 2} space "
            f"dimension(s); the data have "
            f"{ {str(k): v.dims for k, v in ds.data_vars.items() if v.ndim > 1} }. "
            "Set pde (and data_recipe) to match the data."
        )
    return fields


def with_lengths(batch, ds):
    """Add the periodic domain lengths the space shifts need: `Lx`, `Ly` in 2-D
    (the 1-D data carry `L`)."""
    if "dy" in batch:
        batch = dict(
            batch, Lx=batch["dx"] * ds.sizes["x"], Ly=batch["dy"] * ds.sizes["y"]
        )
    return batch


def channel_scales(ds, config) -> ChannelScales:
    """Channel scales from the training data: extents of a crop, the field's std;
    for absolute coordinates the references are the mean stored time and half the
    mean domain length (a crop's x starts at 0)."""
    fields = view_fields(ds, config)
    nt = ds.sizes["time"]
    dt = np.asarray(ds.dt.values, dtype=np.float64)
    t_mid = np.asarray(ds.t0.values, dtype=np.float64) + 0.5 * (nt - 1) * dt
    return ChannelScales(
        t=float(np.mean(dt)) * config.crop_time,
        x=float(np.mean(ds.dx.values)) * config.crop_space,
        u=float(np.std(np.stack([ds[f].values for f in fields]))) or 1.0,
        t_ref=float(np.mean(t_mid)),
        x_ref=0.5 * float(np.mean(ds.dx.values)) * config.crop_space,
        centred=config.coordinates == "centred",
        field_per_view=config.field_scaling == "view",
    )


def _probe_inputs(ds, config, scales):
    """Fixed, unaugmented first crops of the first samples, and their targets."""
    if config.probe_target not in ds:
        raise ValueError(
            f"probe_target {config.probe_target!r} is not a per-sample variable of the "
            f"data ({sorted(str(v) for v in ds.data_vars)})."
        )
    n = min(config.probe_samples, ds.sizes["sample"])
    if n < 4:
        raise ValueError("the probe needs at least 4 samples.")
    crop = (slice(n), slice(config.crop_time)) + (slice(config.crop_space),) * (
        ds.u.ndim - 2
    )
    batch = {f: jnp.asarray(ds[f].values[crop]) for f in view_fields(ds, config)}
    for v in ("t0", "dt", "dx", "dy", *pdes.get(config.pde).view_variables):
        if v in ds:
            batch[v] = ds[v].values[:n]
    identity = symmetries.identity_augmentation()
    keys = jax.random.split(jax.random.key(0), n)
    views = batch_views(identity, keys, with_lengths(batch, ds), scales)
    targets = np.asarray(ds[config.probe_target].values[:n], dtype=np.float64)
    if np.all(targets > 0) and targets.max() > 3 * targets.min():
        targets = np.log(targets)  # as the downstream heads fit such targets
    return views, targets


def _probe(model, state, views, targets) -> dict:
    """Online diagnostics on the fixed probe crops: the ridge probe's NMSE on the
    second half, and the effective rank of the backbone representation."""
    encoder = eqx.nn.inference_mode(model.encoder)
    h, _ = batched(encoder, state, views)
    h = np.asarray(h)
    half = len(h) // 2
    return dict(
        probe_nmse=ridge_probe_nmse(h[:half], targets[:half], h[half:], targets[half:]),
        effective_rank=effective_rank(h),
    )


def pretrain(
    config: PretrainConfig,
    workdir: str | Path,
    *,
    data: str | Path | None = None,
    progress=print,
) -> dict:
    """Run (or resume) pretraining in `workdir`. Without `data`, generates the
    `data_recipe` training split there first. Returns the last metrics.

    On SIGTERM or SIGUSR1 (a preemption notice) it saves a checkpoint at the next step
    boundary and returns early, with `preempted_at` (that step) in the metrics;
    calling it again resumes from there."""
    tensorboard = summary_writer_class(config)  # a missing extra fails before work
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    data = training_file(config, workdir, data)
    ds = datasets.open_dataset(data)
    check_data_pde(config, ds, data)
    count, index = jax.process_count(), jax.process_index()
    if config.batch_size % count:
        raise ValueError(
            f"batch_size {config.batch_size} must divide among {count} processes."
        )
    jepa = config.objective == "jepa"
    loader = datasets.CropLoader(
        ds,
        batch_size=config.batch_size // count,
        process_index=index,
        process_count=count,
        crop_time=config.crop_time
        if not jepa
        else jepa_window(config, ds.sizes["time"]),
        crop_space=config.crop_space + (config.jepa_max_shift if jepa else 0),
        seed=config.seed,
        variables=pdes.get(config.pde).loader_variables(),
        fields=view_fields(ds, config),
        views=2 if config.views == "independent" and not jepa else 1,
    )
    scales = channel_scales(ds, config)
    aug = pretrain_augmentation(config)
    model, state, optimizer, opt_state, schedule = build(config)
    put, replicate = data_parallel(config.batch_size // count)
    static = (
        aug,
        optimizer,
        scales,
        (config.sim_coeff, config.std_coeff, config.cov_coeff),
    ) + ((jepa_settings(config, aug),) if jepa else ())
    step_fn = jepa_train_step if jepa else train_step
    checkpoints = Checkpoints(workdir / "checkpoints", config, config.keep_checkpoints)
    start, (model, state, opt_state) = checkpoints.restore(
        (model, state, opt_state), workdir
    )
    if start:
        progress(f"resumed from step {start}")
    model, state, opt_state = replicate((model, state, opt_state))
    probe = _probe_inputs(ds, config, scales) if config.probe_target else None
    key = jax.random.key(config.seed + 1)
    lead = index == 0  # only process 0 writes metrics and the exported encoder
    writer = MetricsWriter(workdir, start, lead=lead, tensorboard=tensorboard)
    last_logged, window_start, tick = start, start, time.perf_counter()
    metrics = {}
    batches = batches_from(loader, start)

    with (
        PreemptionNotice(config.preemption_check_every) as notice,
        contextlib.ExitStack() as stack,
        step_bar(config.steps, initial=start, desc="pretrain", leave=True) as bar,
    ):
        stack.callback(writer.close)
        for step in range(start, config.steps):
            if notice.agreed(step):
                if checkpoints.latest_step() != step:
                    checkpoints.save(step, (model, state, opt_state))
                checkpoints.close()
                progress(f"preempted: checkpoint saved at step {step}")
                return dict(metrics, preempted_at=step)
            batch = put(with_lengths(next(batches), ds))
            model, state, opt_state, m = step_fn(
                (static, batch, key, step), model, state, opt_state
            )
            bar.update()
            if (step + 1) % config.log_every == 0 or step + 1 == config.steps:
                metrics = {k: float(v) for k, v in m.items()}
                if not all(math.isfinite(v) for v in metrics.values()):
                    raise FloatingPointError(
                        f"non-finite loss or metrics between steps {last_logged} and "
                        f"{step + 1}: {metrics}. Lower the learning rate or check the "
                        "data."
                    )
                if probe is not None and (step + 1) % config.probe_every == 0:
                    online = _probe(model, state, *probe)
                    metrics[f"probe_nmse_{config.probe_target}"] = online["probe_nmse"]
                    metrics["effective_rank"] = online["effective_rank"]
                elapsed = time.perf_counter() - tick
                metrics.update(
                    step=step + 1,
                    lr=float(schedule(step)),
                    samples_per_s=(step + 1 - window_start)
                    * config.batch_size
                    / elapsed,
                )
                writer.write(metrics, step + 1)
                bar.set_postfix(loss=metrics["loss"])
                bar.log(
                    f"step {step + 1}: loss {metrics['loss']:.4f}, "
                    f"repr std {metrics['repr_std']:.3f}",
                    progress,
                )
                last_logged, window_start, tick = (
                    step + 1,
                    step + 1,
                    time.perf_counter(),
                )
            if (step + 1) % config.checkpoint_every == 0 or step + 1 == config.steps:
                checkpoints.save(step + 1, (model, state, opt_state))
    checkpoints.close()
    if lead:
        local = jax.tree.map(
            lambda a: np.asarray(a.addressable_data(0)) if eqx.is_array(a) else a,
            (model.encoder, state),
        )
        export_encoder(workdir / "encoder.eqx", *local, config, scales)
        if jepa:  # the predictor, for latent rollouts (also in the checkpoints)
            predictor = jax.tree.map(
                lambda a: np.asarray(a.addressable_data(0)) if eqx.is_array(a) else a,
                model.predictor,
            )
            export_predictor(workdir / "predictor.eqx", predictor, config)
    return metrics
