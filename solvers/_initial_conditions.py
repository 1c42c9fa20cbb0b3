"""Random initial conditions, seeded by `jax.random` keys."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray

from ._exact import TrigonometricHeatSolution
from ._grid import Grid1d


class SineSeries(eqx.Module):
    """$u_0(x) = \\sum_j A_j \\sin(2\\pi \\ell_j x / L + \\phi_j)$, LPSDA's initial
    condition. The coefficients are kept: they are regression targets downstream."""

    amplitudes: Float[Array, " modes"]
    wavenumbers: Int[Array, " modes"]
    phases: Float[Array, " modes"]

    def __call__(self, grid: Grid1d) -> Float[Array, " x"]:
        arg = (
            2 * jnp.pi * grid.x[:, None] * self.wavenumbers[None, :] / grid.length
            + self.phases[None, :]
        )
        return jnp.sum(self.amplitudes[None, :] * jnp.sin(arg), axis=-1)


def sample_sine_series(
    key: PRNGKeyArray,
    *,
    num_modes: int = 10,
    max_amplitude: float = 0.5,
    min_wavenumber: int = 1,
    max_wavenumber: int = 3,
) -> SineSeries:
    """LPSDA (Brandstetter et al. 2022): $A_j \\sim U(-a, a)$, integer
    $\\ell_j \\in [\\ell_{min}, \\ell_{max})$ ($\\ell_{max}$ exclusive, LPSDA uses 1 and 3),
    $\\phi_j \\sim U(0, 2\\pi)$. Zero mean for $\\ell_{min} \\ge 1$."""
    if num_modes < 1:
        raise ValueError(f"num_modes must be >= 1, got {num_modes}.")
    if not 0 < min_wavenumber < max_wavenumber:
        raise ValueError(
            "need 0 < min_wavenumber < max_wavenumber (max exclusive), got "
            f"{min_wavenumber} and {max_wavenumber}."
        )
    if max_amplitude <= 0:
        raise ValueError(f"max_amplitude must be > 0, got {max_amplitude}.")
    ka, kl, kp = jax.random.split(key, 3)
    return SineSeries(
        amplitudes=jax.random.uniform(
            ka, (num_modes,), minval=-max_amplitude, maxval=max_amplitude
        ),
        wavenumbers=jax.random.randint(
            kl, (num_modes,), min_wavenumber, max_wavenumber
        ),
        phases=jax.random.uniform(kp, (num_modes,), minval=0.0, maxval=2 * jnp.pi),
    )


def sample_heat_cole_hopf(
    key: PRNGKeyArray,
    viscosity,
    length,
    *,
    num_modes: int = 4,
    max_mode_number: int = 4,
    positivity_margin: float = 0.5,
) -> TrigonometricHeatSolution:
    """A random positive trigonometric heat solution, whose Cole–Hopf transform is an
    exact viscous Burgers solution (LPSDA generates Burgers data this way).

    Amplitudes $a_j, b_j \\sim U(-1, 1)$ on integer modes in $[1, m_{max}]$, offset
    $c_0 = (1 + \\text{margin}) \\sum_j(|a_j| + |b_j|)$ so that $\\psi > 0$. The velocity
    scale is $\\sim 2\\nu k / \\text{margin}$: small viscosities give weak fields, so
    use the numerical solver for strongly nonlinear Burgers data.
    """
    if positivity_margin <= 0:
        raise ValueError(f"positivity_margin must be > 0, got {positivity_margin}.")
    ka, kb, km = jax.random.split(key, 3)
    a = jax.random.uniform(ka, (num_modes,), minval=-1.0, maxval=1.0)
    b = jax.random.uniform(kb, (num_modes,), minval=-1.0, maxval=1.0)
    m = jax.random.randint(km, (num_modes,), 1, max_mode_number + 1)
    offset = (1 + positivity_margin) * jnp.sum(jnp.abs(a) + jnp.abs(b))
    return TrigonometricHeatSolution(offset, a, b, m, viscosity, length)
