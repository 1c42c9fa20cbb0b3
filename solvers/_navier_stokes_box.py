r"""The Boussinesq equations in the closed free-slip box, stepped on the box's own
sine and cosine coefficients (see `_free_slip.py` and `_navier_stokes.py`).

The state is the orthonormal coefficients of the vorticity (a sine series in $x$ and
$y$) and of the smoke (a cosine series), packed as `(real, imag)` like the periodic
state so that every stepping method applies unchanged (the imaginary part stays
zero). Each evaluation of the right-hand side takes four inverse and four forward
transforms of the box's size, as many as the periodic solver takes real FFTs:

- $\psi = \omega / |k|^2$, $v_x = \partial_y\psi$ (sine in $x$, cosine in $y$) and
  $v_y = -\partial_x\psi$ (cosine, sine), then $v_x, v_y, s, \omega$ at the cell
  centres;
- the fluxes $v_x s$ (sine, cosine), $v_y s$ (cosine, sine), $v_x\omega$ (cosine, sine)
  and $v_y\omega$ (sine, cosine), transformed back and differentiated; the buoyancy
  force $b s$, re-expanded in sines of $y$ (the `odd_in_y` of the doubled form), has
  the kinds of $v_x\omega$ and enters as one transform of $b s - v_x\omega$.

Products of box values are the products of the mirrored fields and each series is the
mirrored field's Fourier series, so this is the doubled-domain right-hand side of
`BoussinesqNonlinear` (with the same 2/3 truncation) in exact arithmetic. The
step-size control weighs errors as the doubled domain's coefficients would show them
(`DoubledErrorView`), so that adaptive steps, and with them the trajectories, agree
with the doubled-domain solve to round-off.
"""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from . import _sine_cosine as T
from ._free_slip import SMOKE_PARITY, VORTICITY_PARITY, FreeSlipBox
from ._solve import ErrorView, integrate
from ._terms import DiagonalLinearField, pack

SS = (T.SIN, T.SIN)  # vorticity, streamfunction
CC = (T.COS, T.COS)  # smoke
SC = (T.SIN, T.COS)  # v_x; the fluxes v_x s and v_y omega
CS = (T.COS, T.SIN)  # v_y; the fluxes v_y s and v_x omega, the buoyancy force


class BoxBoussinesqNonlinear(eqx.Module):
    """Advection and buoyancy on the packed box coefficients
    $(\\omega, s)$, times the horizon (normalised time). `ns` is a `NavierStokes2d`."""

    ns: eqx.Module
    box: FreeSlipBox
    time_scale: Float[Array, ""]

    def on_coefficients(self, c: Float[Array, "2 x y"]) -> Float[Array, "2 x y"]:
        b = self.box
        omega = c[0] * b.dealias_mask(SS)
        smoke = c[1] * b.dealias_mask(CC)
        psi = omega / -b.laplacian(SS)  # sine modes start at m = 1: |k| > 0
        vx = T.inverse(b.derivative(psi, 1, T.SIN), SC)
        vy = T.inverse(-b.derivative(psi, 0, T.SIN), CS)
        s = T.inverse(smoke, CC)
        w = T.inverse(omega, SS)
        cs = T.forward(jnp.stack([vy * s, self.ns.buoyancy * s - vx * w]), CS)
        sc = T.forward(jnp.stack([vx * s, vy * w]), SC)
        cs = cs * b.dealias_mask(CS)[None]
        sc = sc * b.dealias_mask(SC)[None]
        d_smoke = -(b.derivative(sc[0], 0, T.SIN) + b.derivative(cs[0], 1, T.SIN))
        d_omega = b.derivative(cs[1], 0, T.COS) - b.derivative(sc[1], 1, T.COS)
        return self.time_scale * jnp.stack([d_omega, d_smoke])

    def __call__(self, t, y, args):
        # Packed (real, imag); the coefficients are real, the imaginary part is not
        # read (zero, or the round-off of ETDRK4's complex coefficients).
        d = self.on_coefficients(y[0])
        return jnp.stack([d, jnp.zeros_like(d)])


class DoubledErrorView(ErrorView):
    """The box state as the step-size control of the doubled-domain solver saw it:
    the real and imaginary parts of the doubled grid's real-FFT coefficients of both
    fields (`FreeSlipBox.doubled_images`), `size` entries in all."""

    weights: Float[Array, "4 2 x y"]  # (images, fields, x, y)

    def __init__(self, box: FreeSlipBox):
        nx, ny = box.box.num_points
        self.size = 2 * 2 * (2 * nx) * (ny + 1)  # (real, imag) x fields x kx x ky
        self.weights = jnp.asarray(
            np.stack(
                [
                    box.doubled_images(VORTICITY_PARITY),
                    box.doubled_images(SMOKE_PARITY),
                ],
                axis=1,
            )
        )

    def __call__(self, y):
        return self.weights * y[0][None]


def integrate_box(
    ns, box: FreeSlipBox, smoke0, omega0, t1, fractions, discard_first, stepping
):
    """Integrates from box values `smoke0`, `omega0`; returns the saved states as the
    doubled grid's packed spectra (what `_navier_stokes._solution` reads), Diffrax's
    result and the number of steps."""
    c0 = jnp.stack([T.forward(omega0, SS), T.forward(smoke0, CC)])
    symbol = jnp.stack(
        [ns.viscosity * box.laplacian(SS), ns.diffusivity * box.laplacian(CC)]
    )
    linear = DiagonalLinearField((t1 * symbol).astype(complex))
    nonlinear = BoxBoussinesqNonlinear(ns, box, t1)
    terms = diffrax.MultiTerm(diffrax.ODETerm(nonlinear), diffrax.ODETerm(linear))
    y0 = pack(c0.astype(complex))
    view = DoubledErrorView(box)
    ys, result, num_steps = integrate(
        terms, y0, fractions, discard_first, stepping, view
    )

    def doubled(y):
        omega = box.to_doubled_spectrum(y[0, 0], VORTICITY_PARITY)
        smoke = box.to_doubled_spectrum(y[0, 1], SMOKE_PARITY)
        return pack(jnp.stack([omega, smoke]))

    return jax.vmap(doubled)(ys), result, num_steps
