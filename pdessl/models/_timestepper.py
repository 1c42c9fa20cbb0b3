"""Neural time-steppers: a window of past frames in, the next window out, optionally
conditioned on a vector (a PDE parameter, or a frozen SSL representation).

- `TimeStepper1d`: LPSDA's setting for KS, KdV and Burgers — the `tw` past frames are
  the channels of a 1-D periodic CNN over x, the `tw` next frames its output channels.
- `UNet2d`: a small PDEArena-style U-Net for 2-D fields (frames x fields as channels).

Conditioning (Perez et al. 2018, FiLM; PDEArena's conditioned U-Nets add an embedding
of the time step and buoyancy to every block): the conditioning vector goes through an
MLP to an embedding; every block maps it linearly to a per-channel shift and, with
`film=True`, a per-channel scale, applied as $h \\mapsto h (1 + \\gamma) + \\beta$ after
the block's first convolution. `film=False` is PDEArena's additive embedding
($h \\mapsto h + \\beta$). `cond_dim=0` builds an unconditioned network (no embedding),
which is then called with `cond=None`.

Both networks predict the increment over the last known frame: the output is the last
input frame (per field) plus the network's output, so the zero network is the
persistence forecast. Modules act on one sample; batch with `jax.vmap`.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray


class ConditionEmbedding(eqx.Module):
    """MLP from a conditioning vector to an embedding: Linear, GELU, Linear."""

    first: eqx.nn.Linear
    second: eqx.nn.Linear

    def __init__(self, cond_dim: int, embed_dim: int, *, key: PRNGKeyArray):
        k1, k2 = jax.random.split(key)
        self.first = eqx.nn.Linear(cond_dim, embed_dim, dtype=jnp.float32, key=k1)
        self.second = eqx.nn.Linear(embed_dim, embed_dim, dtype=jnp.float32, key=k2)

    def __call__(self, cond: Float[Array, " cond"]) -> Float[Array, " embed"]:
        return self.second(jax.nn.gelu(self.first(cond)))


class _Modulation(eqx.Module):
    """Embedding -> per-channel (scale, shift), or shift only."""

    linear: eqx.nn.Linear
    film: bool = eqx.field(static=True)

    def __init__(self, embed_dim: int, channels: int, film: bool, *, key):
        out = 2 * channels if film else channels
        self.linear = eqx.nn.Linear(embed_dim, out, dtype=jnp.float32, key=key)
        self.film = film

    def __call__(self, h: Float[Array, "c ..."], emb: Float[Array, " e"]):
        params = self.linear(emb)
        expand = (slice(None),) + (None,) * (h.ndim - 1)
        if self.film:
            scale, shift = jnp.split(params, 2)
            return h * (1 + scale[expand]) + shift[expand]
        return h + params[expand]


def _check_cond(cond, cond_dim: int):
    if cond_dim == 0:
        if cond is not None:
            raise ValueError(
                "this time-stepper is unconditioned (cond_dim=0): pass None."
            )
        return None
    if cond is None or cond.shape != (cond_dim,):
        shape = None if cond is None else cond.shape
        raise ValueError(
            f"the conditioning vector must have shape ({cond_dim},), got {shape}."
        )
    return cond.astype(jnp.float32)


class _ResBlock1d(eqx.Module):
    conv1: eqx.nn.Conv1d
    conv2: eqx.nn.Conv1d
    modulation: _Modulation | None

    def __init__(self, width, kernel, embed_dim, film, *, key):
        k1, k2, k3 = jax.random.split(key, 3)
        conv = dict(padding="SAME", padding_mode="CIRCULAR", dtype=jnp.float32)
        self.conv1 = eqx.nn.Conv1d(width, width, kernel, key=k1, **conv)
        self.conv2 = eqx.nn.Conv1d(width, width, kernel, key=k2, **conv)
        self.modulation = (
            _Modulation(embed_dim, width, film, key=k3) if embed_dim else None
        )

    def __call__(self, h, emb):
        y = self.conv1(jax.nn.gelu(h))
        if self.modulation is not None:
            y = self.modulation(y, emb)
        return h + self.conv2(jax.nn.gelu(y))


class TimeStepper1d(eqx.Module):
    """1-D CNN time-stepper for periodic 1-D PDEs (LPSDA's 20 -> 20 frames setting).

    **Arguments:**

    - `time_window`: $t_w$, frames in and out (LPSDA: 20).
    - `width`, `depth`, `kernel`: channels, residual blocks (two convolutions each) and
      kernel size; all convolutions pad periodically.
    - `cond_dim`: length of the conditioning vector; 0 for none.
    - `embed_dim`: width of the conditioning embedding.
    - `film`: scale and shift (FiLM) if True, PDEArena's additive embedding if False.

    Called as `model(u, cond)` with `u` of shape `(time_window, x)`; returns the next
    `time_window` frames.
    """

    lift: eqx.nn.Conv1d
    blocks: tuple[_ResBlock1d, ...]
    project: eqx.nn.Conv1d
    embedding: ConditionEmbedding | None
    time_window: int = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True)

    def __init__(
        self,
        time_window: int,
        *,
        width: int = 64,
        depth: int = 4,
        kernel: int = 5,
        cond_dim: int = 0,
        embed_dim: int = 64,
        film: bool = True,
        key: PRNGKeyArray,
    ):
        for name, value in (("time_window", time_window), ("width", width)):
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}.")
        if depth < 0 or cond_dim < 0 or kernel < 1:
            raise ValueError(
                f"depth and cond_dim must be >= 0 and kernel >= 1, got {depth}, "
                f"{cond_dim}, {kernel}."
            )
        keys = jax.random.split(key, depth + 3)
        conv = dict(padding="SAME", padding_mode="CIRCULAR", dtype=jnp.float32)
        self.lift = eqx.nn.Conv1d(time_window, width, kernel, key=keys[0], **conv)
        emb = embed_dim if cond_dim else 0
        self.blocks = tuple(
            _ResBlock1d(width, kernel, emb, film, key=k) for k in keys[3:]
        )
        self.project = eqx.nn.Conv1d(width, time_window, kernel, key=keys[1], **conv)
        self.embedding = (
            ConditionEmbedding(cond_dim, embed_dim, key=keys[2]) if cond_dim else None
        )
        self.time_window = time_window
        self.cond_dim = cond_dim

    def __call__(
        self, u: Float[Array, "tw x"], cond: Float[Array, " cond"] | None = None
    ) -> Float[Array, "tw x"]:
        if u.ndim != 2 or u.shape[0] != self.time_window:
            raise ValueError(
                f"expected a window of shape ({self.time_window}, x), got {u.shape}."
            )
        cond = _check_cond(cond, self.cond_dim)
        emb = None if self.embedding is None else self.embedding(cond)
        u = u.astype(jnp.float32)
        h = self.lift(u)
        for block in self.blocks:
            h = block(h, emb)
        return u[-1:] + self.project(jax.nn.gelu(h))


class _ConvBlock2d(eqx.Module):
    conv1: eqx.nn.Conv2d
    conv2: eqx.nn.Conv2d
    skip: eqx.nn.Conv2d | None
    modulation: _Modulation | None

    def __init__(self, cin, cout, embed_dim, film, padding_mode, *, key):
        k1, k2, k3, k4 = jax.random.split(key, 4)
        conv = dict(padding="SAME", padding_mode=padding_mode, dtype=jnp.float32)
        self.conv1 = eqx.nn.Conv2d(cin, cout, 3, key=k1, **conv)
        self.conv2 = eqx.nn.Conv2d(cout, cout, 3, key=k2, **conv)
        self.skip = (
            eqx.nn.Conv2d(cin, cout, 1, dtype=jnp.float32, key=k3)
            if cin != cout
            else None
        )
        self.modulation = (
            _Modulation(embed_dim, cout, film, key=k4) if embed_dim else None
        )

    def __call__(self, h, emb):
        y = self.conv1(jax.nn.gelu(h))
        if self.modulation is not None:
            y = self.modulation(y, emb)
        y = self.conv2(jax.nn.gelu(y))
        return (h if self.skip is None else self.skip(h)) + y


class UNet2d(eqx.Module):
    """A small U-Net for 2-D fields (PDEArena's NS setting, reduced).

    **Arguments:**

    - `time_window`, `fields`: frames in and out, and fields per frame (e.g. 3 for
      smoke, vx, vy); the input has `time_window * fields` channels, frame-major.
    - `widths`: channels per level; each level halves the resolution (average pooling),
      so the spatial size must be divisible by `2 ** (len(widths) - 1)`.
    - `cond_dim`, `embed_dim`, `film`: as in `TimeStepper1d`.
    - `padding_mode`: `"ZEROS"` for PDEArena's walled box, `"CIRCULAR"` for periodic.
    """

    lift: eqx.nn.Conv2d
    down: tuple[_ConvBlock2d, ...]
    middle: _ConvBlock2d
    up: tuple[_ConvBlock2d, ...]
    project: eqx.nn.Conv2d
    embedding: ConditionEmbedding | None
    time_window: int = eqx.field(static=True)
    fields: int = eqx.field(static=True)
    cond_dim: int = eqx.field(static=True)

    def __init__(
        self,
        time_window: int,
        fields: int,
        *,
        widths: tuple[int, ...] = (16, 32),
        cond_dim: int = 0,
        embed_dim: int = 32,
        film: bool = False,
        padding_mode: str = "ZEROS",
        key: PRNGKeyArray,
    ):
        if time_window < 1 or fields < 1 or not widths or cond_dim < 0:
            raise ValueError(
                "time_window and fields must be >= 1, widths non-empty, cond_dim >= 0; "
                f"got {time_window}, {fields}, {widths}, {cond_dim}."
            )
        n = len(widths)
        keys = jax.random.split(key, 2 * n + 3)
        emb = embed_dim if cond_dim else 0
        channels = time_window * fields
        pad = dict(padding="SAME", padding_mode=padding_mode, dtype=jnp.float32)
        self.lift = eqx.nn.Conv2d(channels, widths[0], 3, key=keys[0], **pad)
        self.down = tuple(
            _ConvBlock2d(
                widths[max(i - 1, 0)],
                widths[i],
                emb,
                film,
                padding_mode,
                key=keys[3 + i],
            )
            for i in range(n)
        )
        self.middle = _ConvBlock2d(
            widths[-1], widths[-1], emb, film, padding_mode, key=keys[1]
        )
        # Up path: level i receives the upsampled deeper features and the skip.
        self.up = tuple(
            _ConvBlock2d(
                widths[min(i + 1, n - 1)] + widths[i],
                widths[i],
                emb,
                film,
                padding_mode,
                key=keys[3 + n + i],
            )
            for i in range(n)
        )
        self.project = eqx.nn.Conv2d(widths[0], channels, 3, key=keys[2], **pad)
        self.embedding = (
            ConditionEmbedding(cond_dim, embed_dim, key=keys[2 * n + 2])
            if cond_dim
            else None
        )
        self.time_window = time_window
        self.fields = fields
        self.cond_dim = cond_dim

    def __call__(
        self,
        u: Float[Array, "tw fields x y"],
        cond: Float[Array, " cond"] | None = None,
    ) -> Float[Array, "tw fields x y"]:
        levels = len(self.down)
        factor = 2 ** (levels - 1)
        if (
            u.ndim != 4
            or u.shape[:2] != (self.time_window, self.fields)
            or u.shape[2] % factor
            or u.shape[3] % factor
        ):
            raise ValueError(
                f"expected a window of shape ({self.time_window}, {self.fields}, x, y) "
                f"with x and y divisible by {factor}, got {u.shape}."
            )
        cond = _check_cond(cond, self.cond_dim)
        emb = None if self.embedding is None else self.embedding(cond)
        u = u.astype(jnp.float32)
        h = self.lift(u.reshape(-1, *u.shape[2:]))
        skips = []
        for i, block in enumerate(self.down):
            if i > 0:
                h = _pool(h)
            h = block(h, emb)
            skips.append(h)
        h = self.middle(h, emb)
        for i in reversed(range(levels)):
            if h.shape[1:] != skips[i].shape[1:]:
                h = jnp.repeat(jnp.repeat(h, 2, axis=1), 2, axis=2)
            h = self.up[i](jnp.concatenate([h, skips[i]]), emb)
        out = self.project(jax.nn.gelu(h)).reshape(u.shape)
        return u[-1:] + out


def _pool(h):
    c, x, y = h.shape
    return h.reshape(c, x // 2, 2, y // 2, 2).mean(axis=(2, 4))
