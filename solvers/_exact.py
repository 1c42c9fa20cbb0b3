"""Exact solutions used as references and as exact data generators.

- `TrigonometricHeatSolution`: a heat solution that is a trigonometric polynomial,
  and through Cole–Hopf an exact viscous Burgers solution.
- `kdv_soliton`: the KdV one-soliton.
"""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int

from ._validation import _concrete, check_positive


class TrigonometricHeatSolution(eqx.Module):
    """$\\psi(x, t) = c_0 + \\sum_j e^{-\\nu k_j^2 t}(a_j \\cos k_j x + b_j \\sin k_j x)$,
    $k_j = 2\\pi m_j / L$, an exact solution of $\\psi_t = \\nu \\psi_{xx}$ on $[0, L)$.

    With $c_0 > \\sum_j (|a_j| + |b_j|)$ it stays positive for all $t \\ge 0$, and
    $u = -2\\nu\\,\\psi_x / \\psi$ (Cole–Hopf) solves $u_t + u u_x = \\nu u_{xx}$ exactly.
    """

    offset: Float[Array, ""]
    cos_amplitudes: Float[Array, " modes"]
    sin_amplitudes: Float[Array, " modes"]
    mode_numbers: Int[Array, " modes"]
    viscosity: Float[Array, ""]
    length: Float[Array, ""]

    def __init__(
        self, offset, cos_amplitudes, sin_amplitudes, mode_numbers, viscosity, length
    ):
        self.offset = jnp.asarray(offset, dtype=float)
        self.cos_amplitudes = jnp.asarray(cos_amplitudes, dtype=float)
        self.sin_amplitudes = jnp.asarray(sin_amplitudes, dtype=float)
        self.mode_numbers = jnp.asarray(mode_numbers, dtype=int)
        self.viscosity = jnp.asarray(viscosity, dtype=float)
        self.length = jnp.asarray(length, dtype=float)
        check_positive("viscosity", self.viscosity)
        check_positive("length", self.length)
        c0, a, b = (_concrete(v) for v in (offset, cos_amplitudes, sin_amplitudes))
        if c0 is not None and a is not None and b is not None:
            if not c0 > abs(a).sum() + abs(b).sum():
                raise ValueError(
                    "offset must exceed the sum of |amplitudes| so that psi > 0 "
                    f"(offset {c0}, sum {abs(a).sum() + abs(b).sum()})."
                )

    def _modes(self, x, t):
        # Everything is laid out (*x.shape, modes); mode vectors get leading 1s.
        x = jnp.asarray(x, dtype=float)[..., None]

        def per_mode(v):
            return v.reshape((1,) * (x.ndim - 1) + (-1,))

        k = 2 * jnp.pi * self.mode_numbers / self.length
        decay = jnp.exp(-self.viscosity * k**2 * t)
        phase = x * per_mode(k)
        a, b = per_mode(self.cos_amplitudes), per_mode(self.sin_amplitudes)
        return per_mode(k), per_mode(decay), a, b, jnp.cos(phase), jnp.sin(phase)

    def psi(self, x: ArrayLike, t: ArrayLike) -> Array:
        _, decay, a, b, c, s = self._modes(x, t)
        return self.offset + jnp.sum(decay * (a * c + b * s), axis=-1)

    def psi_x(self, x: ArrayLike, t: ArrayLike) -> Array:
        k, decay, a, b, c, s = self._modes(x, t)
        return jnp.sum(decay * k * (b * c - a * s), axis=-1)

    def burgers(self, x: ArrayLike, t: ArrayLike) -> Array:
        """The Cole–Hopf velocity $u = -2\\nu\\,\\psi_x/\\psi$."""
        return -2 * self.viscosity * self.psi_x(x, t) / self.psi(x, t)


def kdv_soliton(
    x: ArrayLike,
    t: ArrayLike,
    speed: ArrayLike,
    position: ArrayLike = 0.0,
    length: ArrayLike | None = None,
    num_images: int = 2,
) -> Array:
    """One-soliton of $u_t + u u_x + u_{xxx} = 0$:
    $u = 3c\\,\\mathrm{sech}^2\\!\\big(\\tfrac{\\sqrt c}{2}(x - ct - x_0)\\big)$.

    On a periodic domain of `length` L the periodic images $x_0 + nL$,
    $|n| \\le$ `num_images`, are summed. The sum is exact only up to the overlap of the
    tails, $O(c\\,e^{-\\sqrt c L/2})$: pick $\\sqrt c\\,L$ large.
    """
    c = jnp.asarray(speed, dtype=float)
    xi = jnp.asarray(x) - c * t - position
    if length is None:
        return 3 * c / jnp.cosh(0.5 * jnp.sqrt(c) * xi) ** 2
    # Wrap into [-L/2, L/2) before adding images, so the images bracket the soliton.
    xi = ((xi + length / 2) % length - length / 2)[..., None]
    shifts = jnp.arange(-num_images, num_images + 1, dtype=float) * length
    arg = 0.5 * jnp.sqrt(c) * (xi + shifts.reshape((1,) * (xi.ndim - 1) + (-1,)))
    return jnp.sum(3 * c / jnp.cosh(arg) ** 2, axis=-1)
