r"""A closed free-slip box as a symmetric subspace of a doubled periodic domain.

On the box $[0, L_x] \times [0, L_y]$ with no-penetration, stress-free walls the
streamfunction and the vorticity vanish on every wall, so both are sine series in $x$
and in $y$; smoke with no flux through the walls is a cosine series in $x$ and $y$.
Reflecting the box about its walls gives the periodic domain
$[0, 2L_x) \times [0, 2L_y)$ on which these series are ordinary Fourier series of
fields that are odd (sine) or even (cosine) about every wall. The box holds
$n_x \times n_y$ cell centres $((i + \tfrac12)\,\Delta x, (j + \tfrac12)\,\Delta y)$;
reflection about a wall maps cell centres onto cell centres, so the doubled field is
the box array followed by its mirror image, and the periodic spectral machinery
(`Grid2d` with $2n_x \times 2n_y$ points, whose point $i$ is the cell centre $i$)
applies unchanged. The sine/cosine series are the discrete sine/cosine transforms of
type II of the box values.

The solver steps the box itself: it evolves the orthonormal DST/DCT coefficients of
the cell-centre values (`_sine_cosine.py`: one real FFT of the box's size per
transform, where the doubled grid needs one of four times the size), which are the
doubled field's Fourier coefficients up to a phase and a reflection
(`doubled_images`). Sums and pointwise products of box values are those of the
doubled field, so each step is the doubled-domain step in exact arithmetic. The
doubled domain remains the meaning of the series and is kept here for that: the
mirror operations (`extend`, `project`, `odd_in_y`) define the reference
formulation the solver is tested against, saved frames are handed on as doubled
coefficients (the output fields, velocity and pressure are computed there, once per
saved frame), and the step-size control weighs errors as the doubled coefficients
would show them.
"""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Complex, Float

from . import _sine_cosine as T
from ._grid import Grid2d

# Parities (x, y): +1 even (cosine series), -1 odd (sine series) about the walls.
VORTICITY_PARITY = (-1, -1)
SMOKE_PARITY = (1, 1)
VX_PARITY = (-1, 1)
VY_PARITY = (1, -1)


def kinds(parity: tuple[int, int]) -> tuple[str, str]:
    """The series kind per axis of a field of the given parity: even fields are
    cosine series, odd fields sine series."""
    return tuple(T.COS if p == 1 else T.SIN for p in parity)


def _image_factors(n: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    r"""Along one axis of `n` cells: the factors taking the orthonormal coefficient of
    index k to the doubled grid's orthonormal Fourier coefficients at $+m$ and $-m$
    (mode $m = k$ for cosines, $k + 1$ for sines). With the doubled grid's point $i$ at
    the cell centre $(i + \frac12)\Delta x$, $\cos(\pi m (2i+1)/2n)$ has Fourier
    coefficients $e^{\pm i\pi m/2n}/2$ at $\pm m$ and $\sin$ has
    $\mp i\,e^{\pm i\pi m/2n}/2$; with both scalings orthonormal that gives
    $e^{\pm i\pi m/2n}$ and $\mp i\,e^{\pm i\pi m/2n}$. A mode whose images
    coincide ($m = 0$, or the sine mode $m = n$, where the doubled field is
    $(-1)^i$) has one entry $\sqrt2$ at $+m$ and none at $-m$."""
    if kind == T.COS:
        m = np.arange(n)
        plus = np.exp(0.5j * np.pi * m / n)
        minus = np.conj(plus)
        plus[0], minus[0] = np.sqrt(2.0), 0.0
    else:
        m = np.arange(1, n + 1)
        plus = -1j * np.exp(0.5j * np.pi * m / n)
        minus = np.conj(plus)
        plus[-1], minus[-1] = np.sqrt(2.0), 0.0
    return plus, minus


class FreeSlipBox(eqx.Module):
    """The box `box` (its `num_points` are cell centres on `[0, Lx] x [0, Ly]`) and
    the doubled periodic grid that carries its sine and cosine series."""

    box: Grid2d
    doubled: Grid2d

    def __init__(self, box: Grid2d):
        nx, ny = box.num_points
        self.box = box
        self.doubled = Grid2d((2 * nx, 2 * ny), 2 * box.length)

    def extend(
        self, f: Float[ArrayLike, "x y"], parity: tuple[int, int]
    ) -> Float[Array, "x2 y2"]:
        """The doubled field: `f` followed by its mirror image times the parity, along
        x and then y (index $2n - 1 - i$ is the reflection of cell centre $i$)."""
        px, py = parity
        f = jnp.asarray(f, dtype=float)
        f = jnp.concatenate([f, px * f[::-1, :]], axis=0)
        return jnp.concatenate([f, py * f[:, ::-1]], axis=1)

    def restrict(self, f: Float[Array, "x2 y2"]) -> Float[Array, "x y"]:
        nx, ny = self.box.num_points
        return f[:nx, :ny]

    def project(
        self, f_hat: Complex[Array, "kx ky"], parity: tuple[int, int]
    ) -> Complex[Array, "kx ky"]:
        r"""Orthogonal projection of doubled-grid coefficients onto fields of the given
        parity, $(1 + p_x R_x)(1 + p_y R_y)/4$. For the real FFT (index $m$ of $2n$
        points) a reflection about the wall at $-\Delta x / 2$ reads
        $\widehat{R_x f}(m, l) = e^{i\pi m/n_x} \hat f(-m, l)$ and
        $\widehat{R_y f}(m, l) = e^{i\pi l/n_y}\, \overline{\hat f(-m, l)}$ (real $f$)."""
        nx, ny = self.box.num_points
        m = np.arange(2 * nx)[:, None]
        lm = np.arange(ny + 1)[None, :]
        neg = (-np.arange(2 * nx)) % (2 * nx)  # index of -m
        phase_x = jnp.asarray(np.exp(1j * np.pi * m / nx))
        phase_y = jnp.asarray(np.exp(1j * np.pi * lm / ny))
        px, py = parity
        f_hat = 0.5 * (f_hat + px * phase_x * f_hat[neg, :])
        return 0.5 * (f_hat + py * phase_y * jnp.conj(f_hat[neg, :]))

    def odd_in_y(self, f: Float[Array, "x2 y2"]) -> Float[Array, "x2 y2"]:
        r"""A field even in $y$ (a cosine series) re-expanded in sines of $y$: its box
        values are kept and extended oddly, i.e. the doubled field times
        $\operatorname{sign}(y)$. On the box this is the sine interpolant of the
        cell-centre values, the pseudo-spectral form of the $L^2(0, L_y)$ projection
        onto $\sin(n\pi y / L_y)$. The odd extension jumps at the walls where $f \ne 0$,
        so its series converges slowly there (Gibbs, coefficients $\sim 1/n$)."""
        ny = self.box.num_points[1]
        sign = jnp.concatenate([jnp.ones(ny), -jnp.ones(ny)])
        return f * sign[None, :]

    # --- the box's own coefficients (what the solver evolves) -------------------------

    def wavenumbers(self, axis: int, kind: str) -> Float[Array, " modes"]:
        r"""$\pi m / L$ for the coefficient indices of `kind` along `axis` (0: x, 1: y):
        $m = k$ for cosines, $m = k + 1$ for sines."""
        n = self.box.num_points[axis]
        m = np.arange(n) + (0 if kind == T.COS else 1)
        return jnp.pi * m / self.box.length[axis]

    def dealias_mask(self, kinds: tuple[str, str]) -> np.ndarray:
        """The doubled grid's 2/3 rule on the box's modes: keep $3m < 2n$ per axis."""
        masks = []
        for n, kind in zip(self.box.num_points, kinds, strict=True):
            m = np.arange(n) + (0 if kind == T.COS else 1)
            masks.append(3 * m < 2 * n)
        return masks[0][:, None] & masks[1][None, :]

    def laplacian(self, kinds: tuple[str, str]) -> Float[Array, "x y"]:
        """Eigenvalues $-(k_x^2 + k_y^2)$ of the Laplacian on coefficients of `kinds`."""
        kx = self.wavenumbers(0, kinds[0])[:, None]
        ky = self.wavenumbers(1, kinds[1])[None, :]
        return -(kx**2 + ky**2)

    def derivative(
        self, c: Float[Array, "*batch x y"], axis: int, kind: str
    ) -> Float[Array, "*batch x y"]:
        r"""Coefficients of $\partial_x$ (`axis` 0) or $\partial_y$ (`axis` 1) of the
        series with coefficients `c`, of kind `kind` along that axis; the result is of
        the other kind there. $\partial \cos(k x) = -k \sin(k x)$ moves index
        $k$ to sine index $k - 1$; $\partial \sin(k x) = k \cos(k x)$ moves sine
        index $k$ to cosine index $k + 1$, and the sine mode $m = n$ is dropped: its
        derivative, $\cos(\pi (i + \frac12))$, vanishes at every cell centre (as the
        doubled grid's Nyquist derivative does)."""
        ax = c.ndim - 2 + axis
        zero = jnp.zeros_like(jnp.take(c, np.array([0]), axis=ax))
        if kind == T.COS:
            shifted = jnp.concatenate(
                [jnp.take(c, np.arange(1, c.shape[ax]), ax), zero], ax
            )
            k = -self.wavenumbers(axis, T.SIN)
        else:
            shifted = jnp.concatenate(
                [zero, jnp.take(c, np.arange(c.shape[ax] - 1), ax)], ax
            )
            k = self.wavenumbers(axis, T.COS)
        return shifted * T.trailing(k[:, None] if axis == 0 else k[None, :], c.ndim)

    def doubled_images(self, parity: tuple[int, int]) -> np.ndarray:
        r"""Weights $(4, n_x, n_y)$: the real and imaginary parts of the doubled grid's
        real-FFT coefficients (orthonormal, as `self.doubled.to_spectral`) at the two
        images $(\pm m, l)$ of each box mode, per unit box coefficient. The real FFT
        keeps $l \ge 0$ only, so each mode has one image in $y$. Every stored doubled
        coefficient of a field of this parity is one of these entries; the others
        are zero."""
        (nx, ny), (kx, ky) = self.box.num_points, kinds(parity)
        plus, minus = _image_factors(nx, kx)
        y_plus, _ = _image_factors(ny, ky)
        images = [f[:, None] * y_plus[None, :] for f in (plus, minus)]
        return np.stack([part for z in images for part in (z.real, z.imag)])

    def to_doubled_spectrum(
        self, c: Float[ArrayLike, "x y"], parity: tuple[int, int]
    ) -> Complex[Array, "kx2 ky2"]:
        """The doubled grid's coefficients of the series with box coefficients `c`."""
        values = T.inverse(c, kinds(parity))
        return self.doubled.to_spectral(self.extend(values, parity))
