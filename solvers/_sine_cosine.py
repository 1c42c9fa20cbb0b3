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

The reordering, the sign flips and the twiddle factors are precomputed per shape
and pair of kinds (`_plan`) as gathers with constant weights, one before and one
after the FFT. XLA fuses each into a single pass, but its CPU gathers are not cheap:
at 128 x 128 (float64, 2 cores) a transform measured about 1.5-1.8x its `rfft2` or
`irfft2`, and the box right-hand side about 1.9-2.3x the periodic one.
"""

import functools
from typing import NamedTuple

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


def _kind_sign(n: int, kind: str) -> np.ndarray:
    """$(-1)^i$ along a sine axis, ones along a cosine axis."""
    return (-1.0) ** np.arange(n) if kind == SIN else np.ones(n)


def _dct_index(n: int, kind: str) -> np.ndarray:
    """For each coefficient index, the index of the cosine transform it is read from
    (a sine transform is a cosine transform read backwards)."""
    return np.arange(n)[::-1] if kind == SIN else np.arange(n)


class _Plan(NamedTuple):
    """Constant gathers and weights for one shape and pair of kinds (flat indices)."""

    reorder: np.ndarray  # forward: v.flat = (sign * x).flat[reorder]
    sign: np.ndarray  # (-1)^i per sine axis, on x
    unorder: np.ndarray  # inverse: x.flat = v.flat[unorder] (times sign)
    out_index: np.ndarray  # forward: (2, n1 * n2) spectrum entries per coefficient
    out_weight: np.ndarray  # forward: (2, n1 * n2) complex weights
    in_index: np.ndarray  # inverse: (4, n1 * (n2/2 + 1)) coefficients per entry
    in_weight: np.ndarray  # inverse: (4, n1 * (n2/2 + 1)) complex weights


@functools.lru_cache(maxsize=64)
def _plan(n1: int, n2: int, kinds: tuple[str, str]) -> _Plan:
    h = n2 // 2
    r1, r2 = (
        np.concatenate([np.arange(0, n, 2), np.arange(n - 1, 0, -2)]) for n in (n1, n2)
    )
    reorder = (r1[:, None] * n2 + r2[None, :]).ravel()
    unorder = np.argsort(reorder)
    sign = (
        _kind_sign(n1, kinds[0])[:, None] * _kind_sign(n2, kinds[1])[None, :]
    ).ravel()
    scale = _ortho_scale(n1)[:, None] * _ortho_scale(n2)[None, :]

    # Forward: coefficient (k1, k2) is the cosine-order entry (a, b) and, with
    # W(k) = exp(-i pi k / 2n) and V the real FFT of the reordered array,
    # X(a, b) = Re[W1(a) (W2(b) V(a, b) + conj(W2(b)) conj(V(-a, b)))] / 2 for
    # b <= n2/2, and for b > n2/2 (j = n2 - b) the same with -Im in place of Re and a
    # minus sign on the second term: -Im(z) = Re(i z).
    a = _dct_index(n1, kinds[0])[:, None] + 0 * np.arange(n2)[None, :]
    b = _dct_index(n2, kinds[1])[None, :] + 0 * np.arange(n1)[:, None]
    high = b > h
    j = np.where(high, n2 - b, b)
    w1 = np.exp(-0.5j * np.pi * a / n1)
    w2 = np.exp(-0.5j * np.pi * j / n2)
    turn = np.where(high, 1j, 1.0)
    s = 0.5 * scale[a, b]
    out_weight = np.stack([s * turn * w1 * w2, s * np.conj(turn) * w1 * np.conj(w2)])
    out_index = np.stack([a * (h + 1) + j, ((-a) % n1) * (h + 1) + j])

    # Inverse: spectrum entry (k1, k2 <= n2/2) from the cosine-order sums X:
    # conj(W1 W2) [X(k1, k2) - i X(n1 - k1, k2) - i X(k1, n2 - k2) - X(n1 - k1, n2 - k2)]
    # with X(n1, .) = X(., n2) = 0, and X(a, b) = c(coefficient of (a, b)) / scale.
    k1 = np.arange(n1)[:, None] + 0 * np.arange(h + 1)[None, :]
    k2 = np.arange(h + 1)[None, :] + 0 * np.arange(n1)[:, None]
    back = np.conj(np.exp(-0.5j * np.pi * k1 / n1) * np.exp(-0.5j * np.pi * k2 / n2))
    inv_x, inv_y = (
        np.argsort(_dct_index(n1, kinds[0])),
        np.argsort(_dct_index(n2, kinds[1])),
    )
    index, weight = [], []
    for da, db, factor in ((0, 0, 1.0), (1, 0, -1j), (0, 1, -1j), (1, 1, -1.0)):
        aa = n1 - k1 if da else k1
        bb = n2 - k2 if db else k2
        valid = (aa < n1) & (bb < n2)
        aa, bb = np.where(valid, aa, 0), np.where(valid, bb, 0)
        index.append(inv_x[aa] * n2 + inv_y[bb])
        weight.append(np.where(valid, factor * back / scale[aa, bb], 0.0))
    return _Plan(
        reorder=reorder,
        sign=sign,
        unorder=unorder,
        out_index=out_index.reshape(2, -1),
        out_weight=out_weight.reshape(2, -1),
        in_index=np.stack(index).reshape(4, -1),
        in_weight=np.stack(weight).reshape(4, -1),
    )


def _flat(x: Array) -> Array:
    return x.reshape(*x.shape[:-2], -1)


def forward(
    f: Float[ArrayLike, "*batch x y"],
    kinds: tuple[str, str],
    *,
    reordered: bool = False,
) -> Array:
    """Orthonormal coefficients of `f` (values at the cell centres, last two axes):
    type-II DCT along an axis of kind `"cos"`, type-II DST along one of kind `"sin"`.
    Equal to `scipy.fft.dctn`/`dstn` with `type=2, norm="ortho"` axis by axis.

    `reordered`: `f` is given in the transforms' internal order (per axis the even
    cell indices ascending, then the odd ones descending), as `inverse(...,
    reordered=True)` returns it. Pointwise products do not care about the order, so
    a right-hand side that only multiplies values skips two permutations per
    transform pair."""
    f = jnp.asarray(f, dtype=float)
    n1, n2 = _check(f.shape, kinds)
    plan = _plan(n1, n2, tuple(kinds))
    lead = (1,) * (f.ndim - 2)
    if reordered:
        v = _flat(f) * plan.sign[plan.reorder].reshape((*lead, -1))
    else:
        v = jnp.take(_flat(f) * plan.sign.reshape((*lead, -1)), plan.reorder, axis=-1)
    spec = _flat(jnp.fft.rfft2(v.reshape(f.shape)))
    first = jnp.take(spec, plan.out_index[0], axis=-1)
    second = jnp.conj(jnp.take(spec, plan.out_index[1], axis=-1))
    w = plan.out_weight.reshape((2, *lead, -1))
    return (w[0] * first + w[1] * second).real.reshape(f.shape)


def inverse(
    c: Float[ArrayLike, "*batch x y"],
    kinds: tuple[str, str],
    *,
    reordered: bool = False,
) -> Array:
    """Values at the cell centres of the series with orthonormal coefficients `c`
    (type-III DCT/DST per axis; the exact inverse of `forward`); in the internal order
    if `reordered` (see `forward`)."""
    c = jnp.asarray(c, dtype=float)
    n1, n2 = _check(c.shape, kinds)
    plan = _plan(n1, n2, tuple(kinds))
    lead = (1,) * (c.ndim - 2)
    flat = _flat(c)
    w = plan.in_weight.reshape((4, *lead, -1))
    spec = sum(w[t] * jnp.take(flat, plan.in_index[t], axis=-1) for t in range(4))
    v = _flat(jnp.fft.irfft2(spec.reshape(*c.shape[:-1], n2 // 2 + 1), s=(n1, n2)))
    if reordered:
        x = v * plan.sign[plan.reorder].reshape((*lead, -1))
    else:
        x = jnp.take(v, plan.unorder, axis=-1) * plan.sign.reshape((*lead, -1))
    return x.reshape(c.shape)
