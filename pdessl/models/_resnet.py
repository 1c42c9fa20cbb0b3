"""ResNet encoders (He et al. 2016) in Equinox, for space-time images.

1-D PDE data enter as images (channels, time, x) — the channels being the field and,
in the paper's coordinate-channel mode, the transformed t and x; 2-D data as
(frames x channels, x, y). The network acts on one sample; batch it with
`jax.vmap(model, axis_name="batch", in_axes=(0, None), out_axes=(0, None))` so that
BatchNorm computes its statistics over the batch (PyTorch semantics, momentum 0.1;
running statistics live in an `eqx.nn.State`). `group_norm=True` uses GroupNorm
instead (no state updates, batch-size independent).
"""

import itertools

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray


def _norm(channels: int, group_norm: bool, dtype):
    if group_norm:
        return eqx.nn.GroupNorm(min(32, channels), channels, dtype=dtype)
    return eqx.nn.BatchNorm(
        channels, axis_name="batch", momentum=0.9, mode="batch", dtype=dtype
    )


def _apply_norm(norm, x, state):
    if isinstance(norm, eqx.nn.BatchNorm):
        # In inference mode under jit and float64, Equinox's zero-debias factor
        # `momentum ** counter` (int64 counter) comes out float64 and would promote
        # the activations; keep the network's dtype.
        y, state = norm(x, state)
        return y.astype(x.dtype), state
    return norm(x), state


class BasicBlock(eqx.Module):
    """Two 3x3 convolutions with normalisation, plus a (projected) shortcut."""

    conv1: eqx.nn.Conv2d
    norm1: eqx.Module
    conv2: eqx.nn.Conv2d
    norm2: eqx.Module
    shortcut: eqx.nn.Conv2d | None
    norm_shortcut: eqx.Module | None

    def __init__(
        self,
        cin: int,
        cout: int,
        stride: int,
        group_norm: bool,
        *,
        dtype=jnp.float32,
        key: PRNGKeyArray,
    ):
        k1, k2, k3 = jax.random.split(key, 3)
        self.conv1 = eqx.nn.Conv2d(
            cin, cout, 3, stride, padding=1, use_bias=False, dtype=dtype, key=k1
        )
        self.norm1 = _norm(cout, group_norm, dtype)
        self.conv2 = eqx.nn.Conv2d(
            cout, cout, 3, 1, padding=1, use_bias=False, dtype=dtype, key=k2
        )
        self.norm2 = _norm(cout, group_norm, dtype)
        if stride != 1 or cin != cout:
            self.shortcut = eqx.nn.Conv2d(
                cin, cout, 1, stride, use_bias=False, dtype=dtype, key=k3
            )
            self.norm_shortcut = _norm(cout, group_norm, dtype)
        else:
            self.shortcut = self.norm_shortcut = None

    def __call__(self, x, state):
        y, state = _apply_norm(self.norm1, self.conv1(x), state)
        y, state = _apply_norm(self.norm2, self.conv2(jax.nn.relu(y)), state)
        if self.shortcut is not None:
            x, state = _apply_norm(self.norm_shortcut, self.shortcut(x), state)
        return jax.nn.relu(x + y), state


class ResNet(eqx.Module):
    """ResNet encoder: stem, four stages of `BasicBlock`s, global average pooling.

    **Arguments:**

    - `in_channels`: input channels (e.g. 3 for (t, x, u); 80 for 16 NS frames of
      (x, y, t, vx, vy)).
    - `widths`, `depths`: channels and blocks per stage; ResNet-18 is
      `(64, 128, 256, 512)`, `(2, 2, 2, 2)`. The representation has `widths[-1]` dims.
    - `imagenet_stem`: torchvision's 7x7/2 convolution + 3x3/2 max-pool (the paper's
      encoder); otherwise a 3x3/1 convolution for small crops.
    - `group_norm`: GroupNorm instead of BatchNorm.
    - `dtype`: parameter dtype, float32 by default (pdessl turns on float64 for the
      solvers; networks train in float32).
    """

    stem: eqx.nn.Conv2d
    stem_norm: eqx.Module
    blocks: tuple[BasicBlock, ...]
    imagenet_stem: bool = eqx.field(static=True)

    def __init__(
        self,
        in_channels: int,
        *,
        widths: tuple[int, ...] = (64, 128, 256, 512),
        depths: tuple[int, ...] = (2, 2, 2, 2),
        imagenet_stem: bool = True,
        group_norm: bool = False,
        dtype=jnp.float32,
        key: PRNGKeyArray,
    ):
        if len(widths) != len(depths) or not widths:
            raise ValueError(f"widths and depths must match, got {widths}, {depths}.")
        if in_channels < 1:
            raise ValueError(f"in_channels must be >= 1, got {in_channels}.")
        keys = jax.random.split(key, 1 + sum(depths))
        if imagenet_stem:
            self.stem = eqx.nn.Conv2d(
                in_channels,
                widths[0],
                7,
                2,
                padding=3,
                use_bias=False,
                dtype=dtype,
                key=keys[0],
            )
        else:
            self.stem = eqx.nn.Conv2d(
                in_channels,
                widths[0],
                3,
                1,
                padding=1,
                use_bias=False,
                dtype=dtype,
                key=keys[0],
            )
        self.stem_norm = _norm(widths[0], group_norm, dtype)
        self.imagenet_stem = imagenet_stem
        blocks, cin, k = [], widths[0], 1
        for stage, (width, depth) in enumerate(zip(widths, depths, strict=True)):
            for b in range(depth):
                stride = 2 if (b == 0 and stage > 0) else 1
                blocks.append(
                    BasicBlock(cin, width, stride, group_norm, dtype=dtype, key=keys[k])
                )
                cin, k = width, k + 1
        self.blocks = tuple(blocks)

    @property
    def out_dim(self) -> int:
        return self.blocks[-1].conv2.out_channels

    def __call__(
        self, x: Float[Array, "c h w"], state: eqx.nn.State
    ) -> tuple[Float[Array, " dim"], eqx.nn.State]:
        y, state = _apply_norm(self.stem_norm, self.stem(x), state)
        y = jax.nn.relu(y)
        if self.imagenet_stem:
            y = eqx.nn.MaxPool2d(3, 2, padding=1)(y)
        for block in self.blocks:
            y, state = block(y, state)
        return jnp.mean(y, axis=(1, 2)), state


class Projector(eqx.Module):
    """VICReg's expander: (Linear, BatchNorm, ReLU) x (n-1), then Linear without bias;
    "512-512-512" in the official NS recipe."""

    linears: tuple[eqx.nn.Linear, ...]
    norms: tuple[eqx.nn.BatchNorm, ...]

    def __init__(
        self,
        in_dim: int,
        dims: tuple[int, ...] = (512, 512, 512),
        *,
        dtype=jnp.float32,
        key: PRNGKeyArray,
    ):
        keys = jax.random.split(key, len(dims))
        sizes = (in_dim, *dims)
        self.linears = tuple(
            eqx.nn.Linear(a, b, use_bias=(i < len(dims) - 1), dtype=dtype, key=keys[i])
            for i, (a, b) in enumerate(itertools.pairwise(sizes))
        )
        self.norms = tuple(
            eqx.nn.BatchNorm(
                d, axis_name="batch", momentum=0.9, mode="batch", dtype=dtype
            )
            for d in dims[:-1]
        )

    def __call__(self, h: Float[Array, " dim"], state):
        for linear, norm in zip(self.linears[:-1], self.norms, strict=True):
            h, state = norm(linear(h), state)
            h = jax.nn.relu(h)
        return self.linears[-1](h), state
