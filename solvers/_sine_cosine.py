r"""Orthonormal cosine and sine transforms of a box's cell-centre values, in two
dimensions, each computed with one real FFT of the box's own size.

Along an axis of $n$ cells with centres $x_i = (i + \tfrac12)\,L/n$, a cosine series
$\sum_{m=0}^{n-1} a_m \cos(\pi m x / L)$ and a sine series
$\sum_{m=1}^{n} b_m \sin(\pi m x / L)$ are determined by their values at the centres.
The forward transforms (values to coefficients) are the type-II discrete cosine and
sine transforms, the inverses the type-III ones, all orthonormal (SciPy's
`norm="ortho"`): coefficient index $k$ is mode $m = k$ for cosines and $m = k + 1$ for
sines. JAX has no sine transform and its `dctn` runs a complex FFT; both kinds are
built here on `rfft2`/`irfft2` (Makhoul 1980, "A fast cosine transform in one and two
dimensions"):

- reorder each axis as $v = (x_0, x_2, x_4, \ldots, x_5, x_3, x_1)$ and take
  $V = \mathrm{FFT}(v)$; then $\sum_i x_i \cos(\pi k (2i+1)/2n) =
  \mathrm{Re}(e^{-i\pi k/2n} V_k)$. In two dimensions one `rfft2` of the reordered
  array gives $V(k_1, k_2)$ for $k_2 \le n_2/2$, and $V(k_1, -k_2) =
  \overline{V(-k_1, k_2)}$ supplies the rest;
- a sine transform is a cosine transform of $(-1)^i x_i$ read backwards:
  $\sum_i x_i \sin(\pi (k+1)(2i+1)/2n) = \sum_i (-1)^i x_i \cos(\pi (n-1-k)(2i+1)/2n)$.

The extra work over a plain `rfft2` is element-wise (reordering, twiddle factors).
"""

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

COS = "cos"
SIN = "sin"
KINDS = (COS, SIN)


def _check(shape: tuple[int, ...], kinds: tuple[str, str]) -> tuple[int, int]:
    if len(kinds) != 2 or any(k not in KINDS for k in kinds):
        raise ValueError(
            f"kinds must be two of {KINDS} (one per axis, x then y), got {kinds!r}."
        )
    if len(shape) < 2:
        raise ValueError(f"need an array with two trailing axes, got shape {shape}.")
    n1, n2 = shape[-2:]
    if n1 < 2 or n2 < 2 or n1 % 2 or n2 % 2:
        raise ValueError(
            f"both transformed axes must have an even length >= 2, got {(n1, n2)}."
        )
    return n1, n2


def trailing(a, ndim: int):
    """`a` (two axes) with leading unit axes up to `ndim` dimensions: explicit
    broadcasting against a batch of 2-D arrays."""
    return jnp.reshape(a, (1,) * (ndim - a.ndim) + a.shape)


def _ortho_scale(n: int) -> np.ndarray:
    """Scale from the plain sum $\\sum_i x_i \\cos(\\ldots)$ to the orthonormal
    coefficient (cosine index order)."""
    s = np.full(n, np.sqrt(2.0 / n))
    s[0] = np.sqrt(1.0 / n)
    return s


def _reorder_sign(n: int, kind: str) -> np.ndarray:
    """$(-1)^i$ of a sine axis, in the reordered index order (even $i$ first)."""
    if kind == COS:
        return np.ones(n)
    return np.concatenate([np.ones(n // 2), -np.ones(n // 2)])


def _interleave(x: Array, axis: int) -> Array:
    r"""$(x_0, x_2, \ldots, x_{n-2}, x_{n-1}, \ldots, x_3, x_1)$ along `axis` (-2 or -1)."""
    if axis == -2:
        return jnp.concatenate([x[..., ::2, :], x[..., ::-2, :]], axis=-2)
    return jnp.concatenate([x[..., ::2], x[..., ::-2]], axis=-1)


def _deinterleave(v: Array, axis: int) -> Array:
    """The inverse of `_interleave`."""
    n = v.shape[axis]
    if axis == -2:
        pairs = jnp.stack([v[..., : n // 2, :], v[..., : n // 2 - 1 : -1, :]], -2)
        return pairs.reshape(v.shape)
    pairs = jnp.stack([v[..., : n // 2], v[..., : n // 2 - 1 : -1]], -1)
    return pairs.reshape(v.shape)


def _negate_first(a: Array) -> Array:
    r"""$a(-k_1 \bmod n_1, \cdot)$."""
    return jnp.concatenate([a[..., :1, :], a[..., :0:-1, :]], axis=-2)


def _flip_if_sine(x: Array, kinds: tuple[str, str]) -> Array:
    axes = tuple(a for a, k in zip((-2, -1), kinds, strict=True) if k == SIN)
    return jnp.flip(x, axis=axes) if axes else x


def forward(f: Float[ArrayLike, "*batch x y"], kinds: tuple[str, str]) -> Array:
    """Orthonormal coefficients of `f` (values at the cell centres, last two axes):
    type-II DCT along an axis of kind `"cos"`, type-II DST along one of kind `"sin"`.
    Equal to `scipy.fft.dctn`/`dstn` with `type=2, norm="ortho"` axis by axis."""
    f = jnp.asarray(f, dtype=float)
    n1, n2 = _check(f.shape, kinds)
    sign = _reorder_sign(n1, kinds[0])[:, None] * _reorder_sign(n2, kinds[1])[None, :]
    v = _interleave(_interleave(f, -2), -1) * trailing(sign, f.ndim)
    spec = jnp.fft.rfft2(v)  # V(k1, k2), k2 = 0 .. n2/2
    mirrored = jnp.conj(_negate_first(spec))  # V(k1, -k2)
    w1 = trailing(np.exp(-0.5j * np.pi * np.arange(n1) / n1)[:, None], f.ndim)
    w2 = trailing(np.exp(-0.5j * np.pi * np.arange(n2 // 2 + 1) / n2)[None, :], f.ndim)
    p, q = w2 * spec, np.conj(w2) * mirrored
    low = 0.5 * (w1 * (p + q)).real  # k2 = 0 .. n2/2
    high = -0.5 * (w1 * (p - q)).imag[..., 1 : n2 // 2]  # k2 = n2 - 1 .. n2/2 + 1
    coefficients = jnp.concatenate([low, jnp.flip(high, axis=-1)], axis=-1)
    scale = _ortho_scale(n1)[:, None] * _ortho_scale(n2)[None, :]
    return _flip_if_sine(coefficients * trailing(scale, f.ndim), kinds)


def inverse(c: Float[ArrayLike, "*batch x y"], kinds: tuple[str, str]) -> Array:
    """Values at the cell centres of the series with orthonormal coefficients `c`
    (type-III DCT/DST per axis; the exact inverse of `forward`)."""
    c = jnp.asarray(c, dtype=float)
    n1, n2 = _check(c.shape, kinds)
    scale = _ortho_scale(n1)[:, None] * _ortho_scale(n2)[None, :]
    x = _flip_if_sine(c, kinds) / trailing(scale, c.ndim)  # plain sums, cosine order

    def back1(a):  # a(n1 - k1, .), zero for k1 = 0 (there is no mode n1)
        return jnp.concatenate([jnp.zeros_like(a[..., :1, :]), a[..., :0:-1, :]], -2)

    h = n2 // 2
    same = x[..., : h + 1]  # X(k1, k2), k2 = 0 .. n2/2
    # X(k1, n2 - k2), k2 = 0 .. n2/2 (zero for k2 = 0: there is no mode n2)
    back2 = jnp.concatenate([jnp.zeros_like(x[..., :1]), x[..., : h - 1 : -1]], -1)
    w1 = trailing(np.exp(0.5j * np.pi * np.arange(n1) / n1)[:, None], c.ndim)
    w2 = trailing(np.exp(0.5j * np.pi * np.arange(h + 1) / n2)[None, :], c.ndim)
    spec = (w1 * w2) * (same - 1j * back1(same) - 1j * back2 - back1(back2))
    v = jnp.fft.irfft2(spec, s=(n1, n2))
    sign = _reorder_sign(n1, kinds[0])[:, None] * _reorder_sign(n2, kinds[1])[None, :]
    return _deinterleave(_deinterleave(v * trailing(sign, c.ndim), -2), -1)
