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
import dataclasses
import json
import math
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from pdessl import datasets, symmetries
from pdessl.models import Projector, ResNet

from ._config import PretrainConfig
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
from ._metrics import keep_metrics_through
from ._preemption import PreemptionNotice
from ._probe import effective_rank, ridge_probe_nmse
from ._step import ChannelScales, SSLModel, batch_views, train_step


def pretrain_augmentation(config: PretrainConfig) -> symmetries.Augmentation:
    """The views' symmetry group: the PDE's generators at their default strengths,
    overridden by `config.symmetries`; the projective map only when asked for. With
    every generator disabled and independent crops, the identity (crop-only views)."""
    strengths = dict(config.symmetries)
    gens = symmetries.default_generators(config.pde, **strengths)
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


def _decay_mask(params):
    # Weight decay on weight matrices and kernels only, not on biases or norm scales.
    return jax.tree.map(lambda a: a.ndim >= 2, params)


def build(config: PretrainConfig):
    k1, k2 = jax.random.split(jax.random.key(config.seed))
    (encoder, projector), state = eqx.nn.make_with_state(
        lambda: (
            ResNet(
                5 * config.crop_time if config.pde == "ns" else 3,
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
    schedule = optax.warmup_cosine_decay_schedule(
        0.0,
        config.learning_rate,
        min(config.warmup_steps, config.steps - 1),
        config.steps,
    )
    if config.optimizer == "lars":
        # LARS as in VICReg (You et al. 2017): SGD with momentum 0.9 whose update of
        # each weight tensor is rescaled by 1e-3 ||w|| / ||g + wd w||; biases and norm
        # parameters get neither weight decay nor that rescaling.
        optimizer = optax.lars(
            schedule,
            weight_decay=config.weight_decay,
            weight_decay_mask=_decay_mask,
            trust_ratio_mask=_decay_mask,
            momentum=0.9,
        )
    else:
        optimizer = optax.adamw(
            schedule, weight_decay=config.weight_decay, mask=_decay_mask
        )
    opt_state = optimizer.init(eqx.filter(model, eqx.is_inexact_array))
    return model, state, optimizer, opt_state, schedule


def _fields(ds, config) -> tuple[str, ...]:
    """The fields fed to the network: `u` for 1-D PDEs; the velocity for NS (the
    official recipe leaves the smoke out)."""
    fields = ("vx", "vy") if config.pde == "ns" else ("u",)
    ndim = 4 if config.pde == "ns" else 3
    if any(f not in ds or ds[f].ndim != ndim for f in fields):
        raise ValueError(
            f"pde {config.pde!r} needs fields {fields} with {ndim - 2} space "
            f"dimension(s); the data have "
            f"{ {str(k): v.dims for k, v in ds.data_vars.items() if v.ndim > 1} }. "
            "Set pde (and data_recipe) to match the data."
        )
    return fields


def _with_lengths(batch, ds):
    """Add the periodic domain lengths the space shifts need: `Lx`, `Ly` in 2-D
    (the 1-D data carry `L`)."""
    if "dy" in batch:
        batch = dict(
            batch, Lx=batch["dx"] * ds.sizes["x"], Ly=batch["dy"] * ds.sizes["y"]
        )
    return batch


def _scales(ds, config) -> ChannelScales:
    """Channel scales from the training data: extents of a crop, the field's std;
    for absolute coordinates the references are the mean stored time and half the
    mean domain length (a crop's x starts at 0)."""
    fields = _fields(ds, config)
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


def _data_parallel(local_batch: int):
    """A `data` mesh axis over all devices of all processes. Each process holds its
    slice of the global batch; `make_array_from_process_local_data` assembles the
    global array, and the jitted step runs SPMD (XLA all-reduces the gradients; the
    BatchNorm and VICReg statistics are over the global batch). Parameters are
    replicated."""
    devices = jax.devices()
    if local_batch % jax.local_device_count():
        raise ValueError(
            f"the per-process batch ({local_batch}) must divide among the "
            f"{jax.local_device_count()} local devices."
        )
    mesh = jax.sharding.Mesh(np.array(devices), ("data",))
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("data"))
    replicated = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())

    def put(batch):
        return {
            k: jax.make_array_from_process_local_data(sharding, np.asarray(v))
            for k, v in batch.items()
        }

    def replicate(tree):
        def one(a):
            a = np.asarray(a)
            return jax.make_array_from_callback(a.shape, replicated, lambda idx: a[idx])

        arrays, rest = eqx.partition(tree, eqx.is_array)
        return eqx.combine(jax.tree.map(one, arrays), rest)

    return put, replicate


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
    batch = {f: jnp.asarray(ds[f].values[crop]) for f in _fields(ds, config)}
    for v in ("t0", "dt", "dx", "dy", "L"):
        if v in ds:
            batch[v] = ds[v].values[:n]
    identity = symmetries.identity_augmentation()
    keys = jax.random.split(jax.random.key(0), n)
    views = batch_views(identity, keys, _with_lengths(batch, ds), scales)
    targets = np.asarray(ds[config.probe_target].values[:n], dtype=np.float64)
    if np.all(targets > 0) and targets.max() > 3 * targets.min():
        targets = np.log(targets)  # as the downstream heads fit such targets
    return views, targets


def _probe(model, state, views, targets) -> dict:
    """Online diagnostics on the fixed probe crops: the ridge probe's NMSE on the
    second half, and the effective rank of the backbone representation."""
    encoder = eqx.nn.inference_mode(model.encoder)
    h, _ = jax.vmap(encoder, axis_name="batch", in_axes=(0, None), out_axes=(0, None))(
        views, state
    )
    h = np.asarray(h)
    half = len(h) // 2
    return dict(
        probe_nmse=ridge_probe_nmse(h[:half], targets[:half], h[half:], targets[half:]),
        effective_rank=effective_rank(h),
    )


def _summary_writer_class(config):
    """tensorboardX's `SummaryWriter` when `tensorboard = true` (an optional
    dependency, checked before any work), else None."""
    if not config.tensorboard:
        return None
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError(
            "tensorboard = true needs tensorboardX: pip install tensorboardX (or "
            "pip install 'pdessl[tensorboard]'), or set tensorboard = false."
        ) from None
    return SummaryWriter


def _batches(loader, start_step):
    """Batches from step `start_step` on: epoch = step // len, index = step % len."""
    per_epoch = len(loader)
    epoch, skip = divmod(start_step, per_epoch)
    while True:
        for i, batch in enumerate(loader.epoch(epoch)):
            if i >= skip:
                yield batch
        epoch, skip = epoch + 1, 0


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
    import orbax.checkpoint as ocp

    summary_writer = _summary_writer_class(config)
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if data is None:
        # The recipe's stem only: a path in data_recipe never writes outside workdir.
        data = workdir / "data" / f"{Path(config.data_recipe).stem}-train.h5"
        if jax.process_index() == 0 and not data.exists():
            datasets.generate(
                datasets.load_recipe(config.data_recipe), "train", data, progress=False
            )
        if jax.process_count() > 1:  # the others wait for process 0's file
            from jax.experimental import multihost_utils

            multihost_utils.sync_global_devices("pdessl: training data generated")
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
        crop_space=config.crop_space,
        seed=config.seed,
        variables=() if config.pde == "ns" else ("L",),
        fields=_fields(ds, config),
        views=2 if config.views == "independent" and not jepa else 1,
    )
    scales = _scales(ds, config)
    aug = pretrain_augmentation(config)
    model, state, optimizer, opt_state, schedule = build(config)
    put, replicate = _data_parallel(config.batch_size // count)
    static = (
        aug,
        optimizer,
        scales,
        (config.sim_coeff, config.std_coeff, config.cov_coeff),
    ) + ((jepa_settings(config, aug),) if jepa else ())
    step_fn = jepa_train_step if jepa else train_step

    manager = ocp.CheckpointManager(
        workdir / "checkpoints",
        options=ocp.CheckpointManagerOptions(max_to_keep=config.keep_checkpoints),
    )
    arrays, treedef = jax.tree.flatten(
        eqx.filter((model, state, opt_state), eqx.is_array)
    )
    skeleton = eqx.filter((model, state, opt_state), eqx.is_array, inverse=True)
    start = 0
    if manager.latest_step() is not None:
        start = manager.latest_step()
        abstract = {
            str(i): jax.ShapeDtypeStruct(a.shape, a.dtype) for i, a in enumerate(arrays)
        }
        restored = manager.restore(
            start,
            args=ocp.args.Composite(
                arrays=ocp.args.StandardRestore(abstract),
                meta=ocp.args.JsonRestore(),
            ),
        )
        if restored["meta"]["config"] != json.loads(
            json.dumps(dataclasses.asdict(config))
        ):
            raise ValueError(
                f"{workdir} holds a run with another configuration; use a new --workdir."
            )
        arrays = [restored["arrays"][str(i)] for i in range(len(arrays))]
        model, state, opt_state = eqx.combine(
            jax.tree.unflatten(treedef, arrays), skeleton
        )
        progress(f"resumed from step {start}")

    model, state, opt_state = replicate((model, state, opt_state))
    probe = _probe_inputs(ds, config, scales) if config.probe_target else None
    key = jax.random.key(config.seed + 1)
    metrics_path = workdir / "metrics.jsonl"
    lead = index == 0  # only process 0 writes metrics and the exported encoder
    if lead:
        keep_metrics_through(metrics_path, start)  # one row per step after resumes
    scalars = (
        summary_writer(str(workdir / "tensorboard"))
        if summary_writer is not None and lead
        else None
    )
    last_logged, window_start, tick = start, start, time.perf_counter()
    metrics = {}
    batches = _batches(loader, start)

    def save(step):
        arrays = jax.tree.leaves(eqx.filter((model, state, opt_state), eqx.is_array))
        manager.save(
            step,
            args=ocp.args.Composite(
                arrays=ocp.args.StandardSave({str(i): a for i, a in enumerate(arrays)}),
                meta=ocp.args.JsonSave({"config": dataclasses.asdict(config)}),
            ),
        )

    with (
        PreemptionNotice(config.preemption_check_every) as notice,
        contextlib.ExitStack() as stack,
    ):
        if scalars is not None:
            stack.callback(scalars.close)
        for step in range(start, config.steps):
            if notice.agreed(step):
                if manager.latest_step() != step:
                    save(step)
                manager.wait_until_finished()
                manager.close()
                progress(f"preempted: checkpoint saved at step {step}")
                return dict(metrics, preempted_at=step)
            batch = put(_with_lengths(next(batches), ds))
            model, state, opt_state, m = step_fn(
                (static, batch, key, step), model, state, opt_state
            )
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
                if lead:
                    with open(metrics_path, "a") as f:
                        f.write(json.dumps(metrics) + "\n")
                    if scalars is not None:
                        for name, value in metrics.items():
                            scalars.add_scalar(name, value, step + 1)
                progress(
                    f"step {step + 1}: loss {metrics['loss']:.4f}, "
                    f"repr std {metrics['repr_std']:.3f}"
                )
                last_logged, window_start, tick = (
                    step + 1,
                    step + 1,
                    time.perf_counter(),
                )
            if (step + 1) % config.checkpoint_every == 0 or step + 1 == config.steps:
                save(step + 1)
    manager.wait_until_finished()
    manager.close()
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
