"""The supervised baseline: the same encoder architecture trained from scratch on
the labelled crops, augmented by the symmetries that keep the target."""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import xarray as xr

from pdessl import datasets, pdes, symmetries
from pdessl.embedding import dataset_arrays, embed_batches
from pdessl.models import ResNet, batched
from pdessl.progress import start_bar
from pdessl.training import batch_views

from ._probes import MLPHead, _adam, _as_2d

# ------------------------------------------------------- supervised baseline


def supervised_generators(pde: str, target: str) -> tuple[str, ...]:
    """Symmetries that leave `target` unchanged, used to augment the supervised
    baseline. The viscosity is invariant under every Burgers symmetry (the projective
    map is left out, as in pretraining: it needs 1 - e t > 0 on the crop); the
    initial condition's Fourier magnitudes are invariant under space shifts (a phase)
    and Galilean boosts (a constant added), but not under KdV's scaling. On the
    periodic Navier–Stokes domain the buoyancy is kept by shifts, boosts and the
    scaling (the smoke, not an input, absorbs it); rotation is left out (gravity
    breaks it)."""
    return pdes.get(pde).generators_keeping(target)


@functools.cache  # one object per setting: one compilation (_adam)
def _augmentation(pde: str, names: tuple[str, ...]) -> symmetries.Augmentation:
    gens = pdes.default_generators(pde)
    known = {g.name for g in gens}
    unknown = set(names) - known
    if unknown:
        raise ValueError(
            f"unknown generator(s) {sorted(unknown)} for {pde!r}; known: "
            f"{sorted(known)}."
        )
    return symmetries.Augmentation(tuple(g for g in gens if g.name in names), 2, 2)


class SupervisedModel(eqx.Module):
    encoder: ResNet
    head: MLPHead


def _fresh_encoder(header: dict, key) -> ResNet:
    return ResNet(
        header["in_channels"],
        widths=tuple(header["widths"]),
        depths=tuple(header["depths"]),
        imagenet_stem=header["imagenet_stem"],
        group_norm=header["group_norm"],
        key=key,
    )


@eqx.filter_jit
def _supervised_step(model, state, opt_state, static, batch, y, key):
    aug, optimizer, scales = static
    views = batch_views(aug, jax.random.split(key, y.shape[0]), batch, scales)
    params, rest = eqx.partition(model, eqx.is_inexact_array)

    def loss_fn(params, state):
        m = eqx.combine(params, rest)
        h, state = batched(m.encoder, state, views)
        pred, state = batched(m.head, state, h)
        return jnp.mean((pred - y) ** 2), state

    (loss, state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, state)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    model = eqx.combine(optax.apply_updates(params, updates), rest)
    return model, state, opt_state, loss


def train_supervised(
    header: dict,
    labelled: xr.Dataset,
    targets,
    *,
    generators: tuple[str, ...],
    steps: int = 300,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    hidden=(256,),
    seed: int = 0,
):
    """Train encoder + MLP head from scratch on `labelled` crops (targets already in
    the fitted space). Returns `(model, state)` in inference mode."""
    from pdessl.training import ChannelScales

    y = _as_2d(targets)
    k1, k2, k3 = jax.random.split(jax.random.key(seed), 3)
    # Encoder and head share one State (their BatchNorm statistics).
    model, state = eqx.nn.make_with_state(
        lambda: SupervisedModel(
            _fresh_encoder(header, k1),
            MLPHead(
                header["widths"][-1], y.shape[1], hidden, y.min(0), y.max(0), key=k2
            ),
        )
    )()
    optimizer = _adam(float(learning_rate), int(steps))
    opt_state = optimizer.init(eqx.filter(model, eqx.is_inexact_array))
    batch_size = min(batch_size, labelled.sizes["sample"])
    labelled = labelled.assign(target=(("sample", "target_dim"), y))
    pde = pdes.get(header["pde"])
    loader = datasets.CropLoader(
        labelled,
        batch_size=batch_size,
        crop_time=header["crop_time"],
        crop_space=header["crop_space"],
        seed=seed,
        fields=pde.view_fields,
        variables=(*pde.loader_variables(), "target"),
    )
    lengths, labelled_index = {}, labelled["index"].values
    if pde.ndim == 2:
        lengths = dict(
            Lx=labelled.dx.values * labelled.sizes["x"],
            Ly=labelled.dy.values * labelled.sizes["y"],
        )
    static = (
        _augmentation(header["pde"], tuple(generators)),
        optimizer,
        ChannelScales(**header["scales"]),
    )
    step, epoch = 0, 0
    bar = start_bar(steps, desc="supervised baseline")
    while step < steps:
        for batch in loader.epoch(epoch):
            if step == steps:
                break
            b = {k: jnp.asarray(v) for k, v in batch.items()}
            if lengths:
                # Domain lengths for the space shifts, per sample of this batch.
                idx = np.searchsorted(labelled_index, batch["index"])
                b.update({k: jnp.asarray(v[idx]) for k, v in lengths.items()})
            model, state, opt_state, loss = _supervised_step(
                model,
                state,
                opt_state,
                static,
                b,
                b["target"].astype(jnp.float32),
                jax.random.fold_in(k3, step),
            )
            bar.update(loss=loss)
            step += 1
        epoch += 1
    bar.close()
    return eqx.nn.inference_mode(model), state


def supervised_predict(model, state, header: dict, ds: xr.Dataset, crops="mean"):
    """Predictions (fitted space) from the mean representation over the crops of
    each trajectory, exactly as the SSL probe sees the test data."""
    from pdessl.training import ChannelScales

    arrays, crop_shape = dataset_arrays(ds, header)
    scales = ChannelScales(**header["scales"])
    h = embed_batches(model.encoder, state, scales, arrays, crop_shape, crops, 64)
    out, _ = batched(model.head, state, jnp.asarray(h))
    return np.asarray(out, dtype=np.float64)
