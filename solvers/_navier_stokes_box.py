r"""The Boussinesq equations in the closed free-slip box, stepped on the box's own
sine and cosine coefficients (see `_free_slip.py` and `_navier_stokes.py`).

The state is the orthonormal coefficients of the vorticity (a sine series in $x$ and
$y$) and of the smoke (a cosine series), shape `(2, nx, ny)`. These are real, and an
explicit adaptive solver (the default Tsit5) steps them as they are. ETDRK4 and the
IMEX solvers read the linear part as complex-diagonal on a packed `(real, imag)`
state (`DiagonalLinearField`, `SpectralDiagonal`), so for those the coefficients are
packed like the periodic state, with a zero imaginary part. Each evaluation of the right-hand side takes four inverse and four forward
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
from ._solve import Adaptive, ErrorView, integrate
from ._terms import DiagonalLinearField, pack

SS = (T.SIN, T.SIN)  # vorticity, streamfunction
CC = (T.COS, T.COS)  # smoke
SC = (T.SIN, T.COS)  # v_x; the fluxes v_x s and v_y omega
CS = (T.COS, T.SIN)  # v_y; the fluxes v_y s and v_x omega, the buoyancy force


class BoxBoussinesqNonlinear(eqx.Module):
    """Advection and buoyancy on the box coefficients $(\\omega, s)$, times the
    horizon (normalised time). `ns` is a `NavierStokes2d`; `packed`: the state is
    packed `(real, imag)`."""

    ns: eqx.Module
    box: FreeSlipBox
    time_scale: Float[Array, ""]
    packed: bool = eqx.field(static=True, default=False)

    def on_coefficients(self, c: Float[Array, "2 x y"]) -> Float[Array, "2 x y"]:
        b = self.box
        omega = c[0] * b.dealias_mask(SS)
        smoke = c[1] * b.dealias_mask(CC)
        psi = omega / -b.laplacian(SS)  # sine modes start at m = 1: |k| > 0
        # Cell-centre values in the transforms' internal order: only multiplied.
        vx = T.inverse(b.derivative(psi, 1, T.SIN), SC, reordered=True)
        vy = T.inverse(-b.derivative(psi, 0, T.SIN), CS, reordered=True)
        s = T.inverse(smoke, CC, reordered=True)
        w = T.inverse(omega, SS, reordered=True)
        fluxes = jnp.stack([vy * s, self.ns.buoyancy * s - vx * w])
        cs = T.forward(fluxes, CS, reordered=True)
        sc = T.forward(jnp.stack([vx * s, vy * w]), SC, reordered=True)
        cs = cs * b.dealias_mask(CS)[None]
        sc = sc * b.dealias_mask(SC)[None]
        d_smoke = -(b.derivative(sc[0], 0, T.SIN) + b.derivative(cs[0], 1, T.SIN))
        d_omega = b.derivative(cs[1], 0, T.COS) - b.derivative(sc[1], 1, T.COS)
        return self.time_scale * jnp.stack([d_omega, d_smoke])

    def __call__(self, t, y, args):
        if not self.packed:
            return self.on_coefficients(y)
        # The imaginary part is not read: zero, or the round-off that ETDRK4's
        # complex coefficients leave there.
        d = self.on_coefficients(y[0])
        return jnp.stack([d, jnp.zeros_like(d)])


class RealDiagonalField(eqx.Module):
    """$y \\mapsto \\Lambda y$ on the unpacked (real) box state."""

    eigenvalues: Float[Array, "2 x y"]

    def __call__(self, t, y, args):
        return self.eigenvalues * y


class DoubledErrorView(ErrorView):
    """The box state as the step-size control of the doubled-domain solver saw it:
    the real and imaginary parts of the doubled grid's real-FFT coefficients of both
    fields (`FreeSlipBox.doubled_images`), `size` entries in all."""

    weights: Float[Array, "4 2 x y"]  # (images, fields, x, y)
    packed: bool = eqx.field(static=True)

    def __init__(self, box: FreeSlipBox, packed: bool):
        self.packed = packed
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
        return self.weights * (y[0] if self.packed else y)[None]


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
    explicit = isinstance(stepping, Adaptive) and not isinstance(
        stepping.build_solver(), diffrax.AbstractImplicitSolver
    )
    if explicit:
        linear, y0 = RealDiagonalField(t1 * symbol), c0
    else:
        linear, y0 = DiagonalLinearField((t1 * symbol).astype(complex)), pack(c0 + 0j)
    nonlinear = BoxBoussinesqNonlinear(ns, box, t1, packed=not explicit)
    terms = diffrax.MultiTerm(diffrax.ODETerm(nonlinear), diffrax.ODETerm(linear))
    view = DoubledErrorView(box, packed=not explicit)
    ys, result, num_steps = integrate(
        terms, y0, fractions, discard_first, stepping, view
    )

    def doubled(y):
        c = y if explicit else y[0]
        omega = box.to_doubled_spectrum(c[0], VORTICITY_PARITY)
        smoke = box.to_doubled_spectrum(c[1], SMOKE_PARITY)
        return pack(jnp.stack([omega, smoke]))

    return jax.vmap(doubled)(ys), result, num_steps
