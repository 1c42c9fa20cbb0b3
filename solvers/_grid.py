"""Periodic spectral grids in one and two space dimensions.

Fields live on `N` equispaced points of `[0, L)`. Spectral coefficients come from the
real FFT with orthonormal scaling (`norm="ortho"`), so that Parseval holds up to the
half-spectrum weighting and solver tolerances mean the same in both spaces.
"""

import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Complex, Float

from ._validation import check_positive


def _rfft_wavenumbers(
    num_points: int, length: Float[Array, ""]
) -> Float[Array, " modes"]:
    return (2 * jnp.pi / length) * jnp.arange(num_points // 2 + 1, dtype=float)


def _dealias_1d(num_points: int, *, full: bool) -> np.ndarray:
    # Orszag's 2/3 rule: keep integer modes m with 3|m| < N, so that the product of two
    # kept modes can only alias onto a discarded one.
    if full:
        m = np.abs(np.fft.fftfreq(num_points, d=1.0 / num_points))
    else:
        m = np.arange(num_points // 2 + 1)
    return 3 * m < num_points


def _check_num_points(name: str, n: int) -> int:
    if not isinstance(n, int | np.integer) or n < 4 or n % 2:
        raise ValueError(
            f"{name} must be an even integer >= 4 (got {n!r}); spectral grids use an "
            "even number of points so that the Nyquist mode is well defined."
        )
    return int(n)


class Grid1d(eqx.Module):
    """Periodic grid of `num_points` points on `[0, length)`.

    `length` is an array leaf: a batch of grids with different domain lengths is one
    `vmap` away and does not recompile.
    """

    num_points: int = eqx.field(static=True)
    length: Float[Array, "*batch"]  # a scalar per grid; a vector for a batch of grids

    def __init__(
        self, num_points: int, length: Float[ArrayLike, "*batch"] = 2 * math.pi
    ):
        self.num_points = _check_num_points("num_points", num_points)
        self.length = jnp.asarray(length, dtype=float)
        check_positive("length", self.length)

    @property
    def shape(self) -> tuple[int]:
        return (self.num_points,)

    @property
    def spectral_shape(self) -> tuple[int]:
        return (self.num_points // 2 + 1,)

    @property
    def dx(self) -> Float[Array, ""]:
        return self.length / self.num_points

    @property
    def x(self) -> Float[Array, " x"]:
        return jnp.arange(self.num_points, dtype=float) * self.dx

    @property
    def wavenumbers(self) -> Float[Array, " modes"]:
        """Angular wavenumbers $k_m = 2\\pi m / L$, $m = 0, \\ldots, N/2$."""
        return _rfft_wavenumbers(self.num_points, self.length)

    @property
    def dealias_mask(self) -> Bool[Array, " modes"]:
        return jnp.asarray(_dealias_1d(self.num_points, full=False))

    def derivative(self, order: int) -> Complex[Array, " modes"]:
        """Fourier symbol $(i k)^p$ of $\\partial_x^p$.

        For odd `order` the Nyquist mode gets symbol 0: a real field's Nyquist
        coefficient is real, and an imaginary multiple of it cannot be represented.
        """
        k = self.wavenumbers
        if order % 2:
            k = k.at[-1].set(0.0)
        return (1j * k) ** order

    def to_spectral(self, u: Float[ArrayLike, " x"]) -> Complex[Array, " modes"]:
        return jnp.fft.rfft(u, norm="ortho")

    def to_physical(self, u_hat: Complex[Array, " modes"]) -> Float[Array, " x"]:
        return jnp.fft.irfft(u_hat, n=self.num_points, norm="ortho")


class Grid2d(eqx.Module):
    """Periodic grid of `nx * ny` points on `[0, length_x) x [0, length_y)`.

    Arrays are indexed `[x, y]`; the real FFT halves the last (`y`) axis.
    """

    num_points: tuple[int, int] = eqx.field(static=True)
    length: Float[Array, "2"]

    def __init__(
        self,
        num_points: tuple[int, int],
        length: ArrayLike | tuple[float, float] = (2 * math.pi, 2 * math.pi),
    ):
        nx, ny = num_points
        self.num_points = (
            _check_num_points("num_points[0]", nx),
            _check_num_points("num_points[1]", ny),
        )
        self.length = jnp.broadcast_to(jnp.asarray(length, dtype=float), (2,))
        check_positive("length", self.length)

    @property
    def shape(self) -> tuple[int, int]:
        return self.num_points

    @property
    def spectral_shape(self) -> tuple[int, int]:
        nx, ny = self.num_points
        return (nx, ny // 2 + 1)

    @property
    def dx(self) -> Float[Array, ""]:
        return self.length[0] / self.num_points[0]

    @property
    def dy(self) -> Float[Array, ""]:
        return self.length[1] / self.num_points[1]

    @property
    def xy(self) -> tuple[Float[Array, "x y"], Float[Array, "x y"]]:
        nx, ny = self.num_points
        x = jnp.arange(nx, dtype=float) * self.dx
        y = jnp.arange(ny, dtype=float) * self.dy
        return tuple(jnp.meshgrid(x, y, indexing="ij"))

    @property
    def wavenumbers(self) -> tuple[Float[Array, "kx 1"], Float[Array, "1 ky"]]:
        nx, ny = self.num_points
        kx = 2 * jnp.pi / self.length[0] * jnp.fft.fftfreq(nx, d=1.0 / nx)
        ky = _rfft_wavenumbers(ny, self.length[1])
        return kx[:, None], ky[None, :]

    @property
    def dealias_mask(self) -> Bool[Array, "kx ky"]:
        nx, ny = self.num_points
        mx = _dealias_1d(nx, full=True)[:, None]
        my = _dealias_1d(ny, full=False)[None, :]
        return jnp.asarray(mx & my)

    def derivative(self, order: tuple[int, int]) -> Complex[Array, "kx ky"]:
        """Fourier symbol of $\\partial_x^p \\partial_y^q$ (Nyquist zeroed for odd orders)."""
        nx = self.num_points[0]
        kx, ky = self.wavenumbers
        p, q = order
        if p % 2:
            kx = kx.at[nx // 2].set(0.0)
        if q % 2:
            ky = ky.at[:, -1].set(0.0)
        return (1j * kx) ** p * (1j * ky) ** q

    def to_spectral(self, u: Float[ArrayLike, "x y"]) -> Complex[Array, "kx ky"]:
        return jnp.fft.rfft2(u, norm="ortho")

    def to_physical(self, u_hat: Complex[Array, "kx ky"]) -> Float[Array, "x y"]:
        return jnp.fft.irfft2(u_hat, s=self.num_points, norm="ortho")
