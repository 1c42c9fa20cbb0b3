"""One JEPA pretraining step (`objective = "jepa"`), as a single jitted function with
the signature of the VICReg `train_step`, and the predictor's export next to the
encoder.

The loader gives windows of `crop_time + jepa_max_delta` frames; on device each
sample draws its offset $\\Delta$, the window is split into the context and target
crops (`context_target_batches`), both become views with the same channel layout as
VICReg's (so the exported encoder is the same kind of encoder), and the loss is
`jepa_loss`. The step key is `fold_in(key, step)`.
"""

import json
import os
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from pdessl import pdes
from pdessl.models import ResNet
from pdessl.symmetries import identity_augmentation

from ._jepa import JEPAPredictor, context_target_batches, jepa_loss, sample_deltas
from ._step import batch_views

PREDICTOR_FORMAT = "pdessl-jepa-predictor-1"


class JEPAModel(eqx.Module):
    encoder: ResNet
    predictor: JEPAPredictor


class JEPAStatic(eqx.Module):
    """The step's fixed settings: the offsets' range, whether the context is moved
    by a group element (equivariant predictor), and the group's scales."""

    crop_time: int = eqx.field(static=True)
    max_delta: int = eqx.field(static=True)
    equivariant: bool = eqx.field(static=True)
    group_scales: tuple[float, ...] = eqx.field(static=True)
    crop_space: int = eqx.field(static=True, default=0)
    max_shift: int = eqx.field(static=True, default=0)


def _batched(module, state, x):
    return jax.vmap(module, axis_name="batch", in_axes=(0, None), out_axes=(0, None))(
        x, state
    )


def jepa_views(aug, scales, settings: JEPAStatic, batch: dict, key):
    """The context views, target views, offsets, (normalised) group elements and
    spatial shifts of a batch of windows. Without `equivariant` the group elements
    are `None` and both views are unaugmented crops; without `max_shift` the shifts
    are `None` (the same spatial window)."""
    n = batch["t0"].shape[0]
    k_delta, k_aug = jax.random.split(key)
    deltas = sample_deltas(k_delta, n, settings.max_delta)
    shifts = None
    if settings.max_shift:  # a key of its own: the other draws stay as they were
        k_shift = jax.random.fold_in(key, 1)
        shifts = jax.random.randint(k_shift, (n,), 0, settings.max_shift + 1)
    context, target = context_target_batches(
        batch, deltas, settings.crop_time, shifts, settings.crop_space
    )
    keys = jax.random.split(k_aug, n)
    identity = identity_augmentation()
    x_target = batch_views(identity, keys, target, scales)
    if settings.equivariant:
        x_context = batch_views(aug, keys, context, scales)
        # The same keys as inside batch_views: the same group elements.
        eps = jax.vmap(aug.sample)(keys) / jnp.asarray(settings.group_scales)[None, :]
    else:
        x_context, eps = batch_views(identity, keys, context, scales), None
    return x_context, x_target, deltas, eps, shifts


def jepa_step_loss(
    model: JEPAModel, state, x_context, x_target, deltas, eps, shifts, coeffs
):
    h_c, state = _batched(model.encoder, state, x_context)
    h_t, state = _batched(model.encoder, state, x_target)
    in_axes = (0, 0, None if eps is None else 0, None if shifts is None else 0)
    prediction = jax.vmap(model.predictor, in_axes=in_axes)(h_c, deltas, eps, shifts)
    pred, std, cov = coeffs
    loss, terms = jepa_loss(
        h_c.astype(jnp.float32),
        h_t.astype(jnp.float32),
        prediction.astype(jnp.float32),
        pred_coeff=pred,
        std_coeff=std,
        cov_coeff=cov,
    )
    return loss, (state, terms, h_c)


def jepa_train_step(inputs: tuple, model: JEPAModel, state, opt_state):
    """`inputs = ((aug, optimizer, scales, coeffs, settings), batch, key, step)`;
    as `train_step`, with `coeffs = (prediction, variance, covariance)`."""
    static, batch, key, step = inputs
    inputs = (static, batch, key, jnp.asarray(step, dtype=jnp.int32))
    return _jepa_train_step(inputs, model, state, opt_state)


@eqx.filter_jit(donate="all-except-first")
def _jepa_train_step(inputs: tuple, model: JEPAModel, state, opt_state):
    static, batch, key, step = inputs
    aug, optimizer, scales, coeffs, settings = static
    views = jepa_views(aug, scales, settings, batch, jax.random.fold_in(key, step))
    params, static_model = eqx.partition(model, eqx.is_inexact_array)

    def loss_fn(params, state):
        return jepa_step_loss(eqx.combine(params, static_model), state, *views, coeffs)

    (loss, (state, terms, h)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
        params, state
    )
    updates, opt_state = optimizer.update(grads, opt_state, params)
    model = eqx.combine(optax.apply_updates(params, updates), static_model)
    metrics = dict(loss=loss, **terms, repr_std=jnp.mean(jnp.std(h, axis=0)))
    return model, state, opt_state, metrics


def export_predictor(path, predictor: JEPAPredictor, config) -> Path:
    """The trained predictor in one file (JSON header line, then Equinox leaves),
    for latent rollouts next to the exported encoder."""
    path = Path(path)
    header = dict(
        format=PREDICTOR_FORMAT,
        dim=predictor.layers[-1].out_features,
        hidden=[layer.out_features for layer in predictor.layers[:-1]],
        max_delta=predictor.max_delta,
        group_dim=predictor.group_dim,
        frequencies=predictor.frequencies,
        max_shift=predictor.max_shift,
        crop_time=config.crop_time,
    )
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write((json.dumps(header) + "\n").encode())
        eqx.tree_serialise_leaves(f, predictor)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def load_predictor(path) -> tuple[JEPAPredictor, dict]:
    """`(predictor, header)` from a file written by `export_predictor`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist; a JEPA pretraining run writes predictor.eqx "
            "next to encoder.eqx."
        )
    with open(path, "rb") as f:
        try:
            header = json.loads(f.readline())
        except (json.JSONDecodeError, UnicodeDecodeError):
            header = None
        if not isinstance(header, dict) or header.get("format") != PREDICTOR_FORMAT:
            raise ValueError(f"{path} is not a pdessl JEPA predictor file.")
        like = eqx.filter_eval_shape(
            lambda: JEPAPredictor(
                header["dim"],
                tuple(header["hidden"]),
                max_delta=header["max_delta"],
                group_dim=header["group_dim"],
                frequencies=header["frequencies"],
                max_shift=header.get("max_shift", 0),
                key=jax.random.key(0),
            )
        )
        try:
            predictor = eqx.tree_deserialise_leaves(f, like)
        except Exception as err:  # truncated or mismatched payload
            raise ValueError(f"{path} is truncated or corrupt: {err}") from None
    return predictor, header


def jepa_settings(config, aug) -> JEPAStatic:
    """The step's fixed settings for a `PretrainConfig` with `objective = "jepa"`."""
    from ._jepa import group_scales

    return JEPAStatic(
        crop_time=config.crop_time,
        max_delta=config.jepa_max_delta,
        equivariant=config.jepa_equivariant,
        group_scales=tuple(float(s) for s in group_scales(aug)),
        crop_space=config.crop_space,
        max_shift=config.jepa_max_shift,
    )


def jepa_window(config, frames: int) -> int:
    """Frames the loader crops for JEPA (context plus the largest offset), checked
    against the `frames` the data hold."""
    if config.jepa_max_shift and pdes.get(config.pde).ndim == 2:
        raise ValueError(
            "jepa_max_shift is implemented for 1-D PDEs; set it to 0 for "
            f"{config.pde!r} (the target then shares the context's spatial window)."
        )
    window = config.crop_time + config.jepa_max_delta
    if window > frames:
        raise ValueError(
            f"objective 'jepa' needs windows of crop_time + jepa_max_delta = {window} "
            f"frames, but the data hold {frames}; lower jepa_max_delta or crop_time."
        )
    return window


def make_predictor(config, dim: int, group_dim: int, key) -> JEPAPredictor:
    return JEPAPredictor(
        dim,
        tuple(config.jepa_predictor),
        max_delta=config.jepa_max_delta,
        group_dim=group_dim if config.jepa_equivariant else 0,
        max_shift=config.jepa_max_shift,
        key=key,
    )
