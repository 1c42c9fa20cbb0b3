"""Burgers' infinite-dimensional symmetry through Cole–Hopf (LPSDA's subalgebra).

If $\\psi_1, \\psi_2 > 0$ solve the heat equation $\\psi_t = \\nu\\psi_{xx}$, so does
$\\psi = (1-\\alpha)\\psi_1 + \\alpha\\psi_2$ for $\\alpha \\in [0, 1]$, and
$u = -2\\nu\\,\\partial_x \\log\\psi$ solves viscous Burgers. This mixes two
trajectories into a third exact one; it needs the heat fields (LPSDA's Burgers files
store them), not the Burgers velocities.
"""

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float


def heat_superposition(
    psi1: Float[ArrayLike, "time x"],
    psi2: Float[ArrayLike, "time x"],
    alpha,
    viscosity,
    dx,
) -> Float[Array, "time x"]:
    """Burgers velocity of $(1-\\alpha)\\psi_1 + \\alpha\\psi_2$ on a periodic grid of
    spacing `dx` (spectral derivative). Non-positive mixtures give NaN, never a wrong
    value: the heat fields must be positive."""
    psi1, psi2 = jnp.asarray(psi1), jnp.asarray(psi2)
    alpha = jnp.asarray(alpha)
    psi = (1 - alpha) * psi1 + alpha * psi2
    n = psi.shape[-1]
    k = 2 * jnp.pi * jnp.fft.rfftfreq(n, d=dx)
    if n % 2 == 0:
        k = k.at[-1].set(0.0)
    psi_x = jnp.fft.irfft(1j * k[None, :] * jnp.fft.rfft(psi, axis=-1), n=n, axis=-1)
    u = -2 * viscosity * psi_x / psi
    return jnp.where(jnp.all(psi > 0), u, jnp.nan)
