"""Batch-level forward passes of `ResNet` and `Projector`, channels-last.

`ResNet.__call__` acts on one sample, and training batches it with `jax.vmap` (the
BatchNorm statistics then come from a named-axis mean). That is the reference
definition. The functions here compute the same thing on a whole batch at once, from
the same parameters and the same `eqx.nn.State`:

- activations are kept channels-last (NHWC) between layers, with HWIO kernels, which
  is the layout XLA's CPU convolutions want: the per-sample NCHW path pays a pair of
  layout transposes around every convolution, forward and backward;
- BatchNorm reduces over (batch, height, width) of the channels-last array directly,
  with the textbook gradient written out (`_normalise`): one reduction pass and one
  elementwise pass per layer instead of autodiff's several;
- the stem's 3x3/2 max-pool is a maximum over shifted strided slices. Its gradient is
  then a handful of selects, instead of XLA's `select-and-scatter`, which the CPU
  backend expands into index bookkeeping costing more than a convolution layer.

Outputs agree with the vmapped reference to float32 round-off (sums in another order);
gradients too, except at exact ties inside a pooling window, which the reference gives
to one element and `jnp.maximum` splits. After the ReLU in front of the pool the only
ties are zeros, whose gradient the ReLU discards either way.

Only what `ResNet` and `Projector` are built from is supported: zero-padded
`eqx.nn.Conv2d`, `eqx.nn.BatchNorm` in `mode="batch"`, `eqx.nn.GroupNorm`,
`eqx.nn.Linear`.
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._resnet import BasicBlock, Projector, ResNet


def _conv(
    conv: eqx.nn.Conv2d, x: Float[Array, "n h w ci"]
) -> Float[Array, "n ho wo co"]:
    if conv.padding_mode != "ZEROS":
        raise ValueError(
            f"batched convolutions support zero padding only, got {conv.padding_mode}."
        )
    kernel = jnp.transpose(conv.weight, (2, 3, 1, 0))  # OIHW -> HWIO
    y = jax.lax.conv_general_dilated(
        x,
        kernel,
        window_strides=conv.stride,
        padding=conv.padding,
        rhs_dilation=conv.dilation,
        feature_group_count=conv.groups,
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
    )
    if conv.use_bias:
        y = y + conv.bias.reshape(1, 1, 1, -1)  # stored as (out, 1, 1)
    return y


@functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
def _normalise(x, weight, bias, eps):
    """Training-mode BatchNorm of a channels-last `x` with batch statistics: returns
    the output and the statistics `(y, mean, var)`."""
    return _normalise_fwd(x, weight, bias, eps)[0]


def _normalise_fwd(x, weight, bias, eps):
    axes = tuple(range(x.ndim - 1))
    shape = (1,) * (x.ndim - 1) + (-1,)  # per-channel values against channels-last
    mean = jnp.mean(x, axis=axes)
    centred = x - mean.reshape(shape)
    var = jnp.maximum(0.0, jnp.mean(centred**2, axis=axes))
    std = jnp.sqrt(var + eps)
    x_hat = centred / std.reshape(shape)
    y = x_hat * weight.reshape(shape) + bias.reshape(shape)
    return (y, mean, var), (x_hat, std, weight)


def _normalise_bwd(eps, residuals, cotangents):
    # The textbook BatchNorm gradient in one reduction pass and one elementwise
    # pass (autodiff of the forward takes several): with m values per channel,
    # dx = w / std * (dy - mean(dy) - x_hat * mean(dy * x_hat)), plus the terms of
    # the returned statistics (they feed the running averages, which are state and
    # not differentiated in training: their cotangents are zeros then).
    x_hat, std, weight = residuals
    dy, d_mean, d_var = cotangents
    axes = tuple(range(x_hat.ndim - 1))
    shape = (1,) * (x_hat.ndim - 1) + (-1,)
    m = x_hat.size // x_hat.shape[-1]
    d_bias = jnp.sum(dy, axis=axes)
    d_weight = jnp.sum(dy * x_hat, axis=axes)
    dx = (weight / std).reshape(shape) * (
        dy - (d_bias / m).reshape(shape) - x_hat * (d_weight / m).reshape(shape)
    )
    # d mean / dx = 1/m; d var / dx = 2 (x - mean) / m = 2 std x_hat / m.
    dx = dx + (d_mean / m).reshape(shape) + x_hat * (2 * d_var * std / m).reshape(shape)
    return dx, d_weight, d_bias


_normalise.defvjp(_normalise_fwd, _normalise_bwd)


def _batch_norm(norm: eqx.nn.BatchNorm, x, state):
    """`eqx.nn.BatchNorm` (mode "batch") over every axis but the last (channels):
    the same statistics, running-average update and zero-debiased inference."""
    if norm.mode != "batch":
        raise ValueError(f"batched BatchNorm needs mode='batch', got {norm.mode!r}.")
    shape = (1,) * (x.ndim - 1) + (-1,)  # per-channel values against channels-last
    counter = state.get(norm.batch_counter)
    hidden_mean, hidden_var = state.get(norm.batch_state_index)
    if norm.channelwise_affine:
        weight, bias = norm.weight, norm.bias
    else:
        weight = jnp.ones(x.shape[-1], x.dtype)
        bias = jnp.zeros(x.shape[-1], x.dtype)
    if norm.inference:
        scale = jnp.where(counter == 0, 1, 1 - norm.momentum**counter)
        mean, var = hidden_mean / scale, hidden_var / scale
        y = (x - mean.reshape(shape)) / jnp.sqrt(var + norm.eps).reshape(shape)
        y = y * weight.reshape(shape) + bias.reshape(shape)
    else:
        y, mean, var = _normalise(x, weight, bias, norm.eps)
        state = state.set(norm.batch_counter, counter + 1)
        state = state.set(
            norm.batch_state_index,
            (
                hidden_mean * norm.momentum + mean * (1 - norm.momentum),
                hidden_var * norm.momentum + var * (1 - norm.momentum),
            ),
        )
    # As `_resnet._apply_norm`: the float64 debias factor must not promote.
    return y.astype(x.dtype), state


def _group_norm(norm: eqx.nn.GroupNorm, x: Float[Array, "n h w c"]):
    n, h, w, c = x.shape
    g = norm.groups
    y = x.reshape(n, h, w, g, c // g)
    mean = jnp.mean(y, axis=(1, 2, 4), keepdims=True)
    var = jnp.maximum(0.0, jnp.var(y, axis=(1, 2, 4), keepdims=True))
    y = ((y - mean) * jax.lax.rsqrt(var + norm.eps)).reshape(x.shape)
    if norm.channelwise_affine:
        y = y * norm.weight.reshape(1, 1, 1, c) + norm.bias.reshape(1, 1, 1, c)
    return y.astype(x.dtype)


def _norm(norm, x, state):
    if isinstance(norm, eqx.nn.BatchNorm):
        return _batch_norm(norm, x, state)
    if isinstance(norm, eqx.nn.GroupNorm):
        return _group_norm(norm, x), state
    raise TypeError(f"unsupported normalisation layer {type(norm).__name__}.")


def _max_pool(x: Float[Array, "n h w c"], size: int, stride: int, padding: int):
    """Max-pool over height and width, padded with -inf (as `eqx.nn.MaxPool2d`):
    the maximum of `size` strided slices along each axis in turn."""
    x = jnp.pad(
        x,
        ((0, 0), (padding, padding), (padding, padding), (0, 0)),
        constant_values=-jnp.inf,
    )
    for axis in (1, 2):
        out = (x.shape[axis] - size) // stride + 1
        slices = [
            jax.lax.slice_in_dim(x, i, i + stride * (out - 1) + 1, stride, axis)
            for i in range(size)
        ]
        x = slices[0]
        for s in slices[1:]:
            x = jnp.maximum(x, s)
    return x


def _block(block: BasicBlock, x, state):
    y, state = _norm(block.norm1, _conv(block.conv1, x), state)
    y, state = _norm(block.norm2, _conv(block.conv2, jax.nn.relu(y)), state)
    if block.shortcut is not None:
        x, state = _norm(block.norm_shortcut, _conv(block.shortcut, x), state)
    return jax.nn.relu(x + y), state


def encode_batch(
    encoder: ResNet, x: Float[Array, "batch c h w"], state: eqx.nn.State
) -> tuple[Float[Array, "batch dim"], eqx.nn.State]:
    """`encoder` on a batch of channels-first images, as
    `jax.vmap(encoder, axis_name="batch", in_axes=(0, None), out_axes=(0, None))`
    computes it (BatchNorm statistics over the batch in training mode, running
    statistics after `eqx.nn.inference_mode`), in one channels-last pass."""
    if x.ndim != 4:
        raise ValueError(f"expected a batch of (c, h, w) images, got shape {x.shape}.")
    y = jnp.transpose(x, (0, 2, 3, 1))  # NCHW -> NHWC, once
    y, state = _norm(encoder.stem_norm, _conv(encoder.stem, y), state)
    y = jax.nn.relu(y)
    if encoder.imagenet_stem:
        y = _max_pool(y, 3, 2, 1)
    for block in encoder.blocks:
        y, state = _block(block, y, state)
    return jnp.mean(y, axis=(1, 2)), state


def project_batch(
    projector: Projector, h: Float[Array, "batch dim"], state: eqx.nn.State
) -> tuple[Float[Array, "batch out"], eqx.nn.State]:
    """`projector` on a batch of representations, as its vmap over a named
    "batch" axis computes it."""
    if h.ndim != 2:
        raise ValueError(f"expected a (batch, dim) array, got shape {h.shape}.")
    for linear, norm in zip(projector.linears[:-1], projector.norms, strict=True):
        h = h @ linear.weight.T + linear.bias[None]
        h, state = _batch_norm(norm, h, state)
        h = jax.nn.relu(h)
    last = projector.linears[-1]
    h = h @ last.weight.T
    return (h + last.bias[None] if last.use_bias else h), state
