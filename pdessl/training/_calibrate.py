"""BatchNorm statistics from data for an encoder that was never trained.

An Equinox `BatchNorm` (mode "batch") that has never run in training mode holds
mean 0 / variance 1, so in inference mode it is the identity: an "untrained control"
exported that way is a raw random convolutional network, sensitive to the amplitude
of its input — another function class than the pretrained encoder, whose statistics
come from data. `calibrate_batchnorm` gives the untrained weights the statistics of
unaugmented training crops: one training-mode pass, no gradient, over one batch, with
the hidden statistics zeroed first so that Equinox's debiased running values equal the
batch's mean and variance exactly, layer by layer.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from pdessl import datasets, pdes, symmetries
from pdessl.models import batched

from ._step import ChannelScales, batch_views


def _batch_norms(module) -> list[eqx.nn.BatchNorm]:
    is_bn = lambda m: isinstance(m, eqx.nn.BatchNorm)  # noqa: E731
    return [m for m in jax.tree.leaves(module, is_leaf=is_bn) if is_bn(m)]


def calibrate_batchnorm(encoder, state: eqx.nn.State, views) -> eqx.nn.State:
    """The BatchNorm state whose inference-mode statistics are those of `views`
    `(batch, channels, ...)` passed through `encoder` (its weights unchanged)."""
    for bn in _batch_norms(encoder):
        if bn.mode != "batch":
            raise ValueError("calibrate_batchnorm handles BatchNorm mode 'batch' only.")
        mean, var = state.get(bn.batch_state_index)
        state = state.set(bn.batch_state_index, (mean * 0, var * 0))
        state = state.set(bn.batch_counter, state.get(bn.batch_counter) * 0)
    return _training_pass(eqx.nn.inference_mode(encoder, value=False), state, views)


@eqx.filter_jit
def _training_pass(encoder, state, views):
    _, state = batched(encoder, state, jnp.asarray(views))
    return state


def calibration_views(
    ds, config, scales: ChannelScales, *, samples: int = 512, seed: int = 0
):
    """One random unaugmented crop of each of the first `samples` trajectories of
    `ds`, as the encoder receives them."""
    from ._pretrain import view_fields, with_lengths

    n = min(samples, ds.sizes["sample"])
    loader = datasets.CropLoader(
        ds.isel(sample=slice(n)),
        batch_size=n,
        crop_time=config.crop_time,
        crop_space=config.crop_space,
        seed=seed,
        fields=view_fields(ds, config),
        variables=pdes.get(config.pde).loader_variables(),
    )
    batch = with_lengths(next(iter(loader.epoch(0))), ds)
    identity = symmetries.identity_augmentation()
    keys = jax.random.split(jax.random.key(0), n)
    batch = {k: jnp.asarray(np.asarray(v)) for k, v in batch.items()}
    return batch_views(identity, keys, batch, scales)


def export_untrained(config, data, path, *, samples: int = 512):
    """Export the encoder of `config` at its initialisation (no training step), with
    BatchNorm statistics calibrated on unaugmented crops of the training file `data`
    and that file's input scales: the fair untrained control."""
    from ._export import export_encoder
    from ._pretrain import build, channel_scales

    ds = datasets.open_dataset(data)
    model, state, *_ = build(config)
    scales = channel_scales(ds, config)
    views = calibration_views(ds, config, scales, samples=samples)
    state = calibrate_batchnorm(model.encoder, state, views)
    return export_encoder(path, model.encoder, state, config, scales)
