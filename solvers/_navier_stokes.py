r"""Incompressible 2-D Navier–Stokes with buoyancy-driven smoke (Boussinesq), in
vorticity–streamfunction form on a periodic domain or in a closed free-slip box:

$$\omega_t + \mathbf{u}\cdot\nabla\omega = \nu\Delta\omega + b\,\partial_x s,
\qquad s_t + \mathbf{u}\cdot\nabla s = \kappa\Delta s,$$

with $\mathbf{u} = (\partial_y\psi, -\partial_x\psi)$, $\Delta\psi = -\omega$,
$\omega = \partial_x v_y - \partial_y v_x$. The buoyancy force $b s$ acts along $+y$,
so its curl is $b\,\partial_x s$. Advection is written in conservative form,
$\nabla\cdot(\mathbf{u} q)$ (equal for a divergence-free flow), so the total smoke
and the mean vorticity are conserved to round-off. Products are dealiased by the 2/3
rule. The velocity is divergence-free by construction (to round-off).

The mean flow is zero (no k = 0 streamfunction mode): the mean buoyancy
$b\langle s\rangle$ is balanced by a uniform hydrostatic pressure gradient
$\partial_y p = b\langle s\rangle$, which is not periodic and is not included in the
(periodic, zero-mean) `pressure` output.

The free-slip box (`boundary="free-slip"`, see `_free_slip.py`) evolves the sine series
of $\omega$ and the cosine series of $s$, the series of the doubled periodic domain
(stepped on the box's own DST/DCT coefficients, `_navier_stokes_box.py`): the walls
have zero normal velocity and zero tangential stress, and no smoke crosses them. All
terms keep these parities except the buoyancy: gravity along $y$ breaks the $y$
reflection, and $b\,\partial_x s$ is even in $y$. The solver therefore re-expands the
buoyancy force $b s$ in sines of $y$ before taking its curl (a Galerkin truncation of
the free-slip problem: the exact solution has $\nu\,\partial_y^2\omega = -b\,\partial_x s$
on the top and bottom walls, which a sine series matches only in the limit, so the
series converges slowly in thin layers at those walls). The same re-expanded force
enters the box pressure, a cosine series (Neumann): it carries the hydrostatic part
$\partial_y p = b s$ on the top and bottom walls, imposed weakly, so the box
`pressure` is the full pressure up to a constant (zero mean).
"""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Complex, Float, PRNGKeyArray

from ._free_slip import (
    SMOKE_PARITY,
    VORTICITY_PARITY,
    FreeSlipBox,
)
from ._grid import Grid2d
from ._navier_stokes_box import integrate_box
from ._solve import (
    Adaptive,
    FixedStepETDRK4,
    SolveStatus,
    _save_fractions,
    error_if_failed,
    integrate,
    status_code,
)
from ._terms import DiagonalLinearField, pack, unpack
from ._validation import check_nonnegative, check_positive


class NavierStokes2d(eqx.Module):
    """Parameters: kinematic viscosity `viscosity`, smoke diffusivity `diffusivity`,
    buoyancy `buoyancy` (force $b s$ along $+y$). Array leaves: vmap over buoyancy."""

    viscosity: Float[Array, ""]
    diffusivity: Float[Array, ""]
    buoyancy: Float[Array, ""]

    def __init__(
        self,
        viscosity: ArrayLike = 0.01,
        diffusivity: ArrayLike = 0.01,
        buoyancy: ArrayLike = 0.5,
    ):
        self.viscosity = jnp.asarray(viscosity, dtype=float)
        self.diffusivity = jnp.asarray(diffusivity, dtype=float)
        self.buoyancy = jnp.asarray(buoyancy, dtype=float)
        check_positive("viscosity", self.viscosity)
        check_nonnegative("diffusivity", self.diffusivity)
        check_nonnegative("buoyancy", self.buoyancy)

    def linear_symbol(self, grid: Grid2d) -> Complex[Array, "2 kx ky"]:
        lap = grid.derivative((2, 0)) + grid.derivative((0, 2))
        return jnp.stack([self.viscosity * lap, self.diffusivity * lap])


def velocity(omega_hat: Complex[Array, "kx ky"], grid: Grid2d):
    """$(\\hat v_x, \\hat v_y)$ from $\\hat\\omega$: $\\hat\\psi = \\hat\\omega/|k|^2$
    ($k = 0$: zero mean flow), $v_x = \\psi_y$, $v_y = -\\psi_x$."""
    kx, ky = grid.wavenumbers
    k2 = kx**2 + ky**2
    psi_hat = jnp.where(k2 > 0, omega_hat / jnp.where(k2 > 0, k2, 1.0), 0.0)
    return grid.derivative((0, 1)) * psi_hat, -grid.derivative((1, 0)) * psi_hat


def pressure(
    omega_hat: Complex[Array, "kx ky"],
    s_hat: Complex[Array, "kx ky"],
    ns: NavierStokes2d,
    grid: Grid2d,
) -> Complex[Array, "kx ky"]:
    r"""Pressure (zero mean) from the divergence of the momentum equation,
    $\Delta p = -\partial_i\partial_j(v_i v_j) + b\,\partial_y s$."""
    vx_hat, vy_hat = velocity(omega_hat, grid)
    vx, vy = grid.to_physical(vx_hat), grid.to_physical(vy_hat)
    mask = grid.dealias_mask
    dxx, dxy, dyy = (
        grid.derivative((2, 0)),
        grid.derivative((1, 1)),
        grid.derivative((0, 2)),
    )
    div_div = (
        dxx * grid.to_spectral(vx * vx)
        + 2 * dxy * grid.to_spectral(vx * vy)
        + dyy * grid.to_spectral(vy * vy)
    ) * mask
    rhs = -div_div + ns.buoyancy * grid.derivative((0, 1)) * s_hat
    kx, ky = grid.wavenumbers
    k2 = kx**2 + ky**2
    return jnp.where(k2 > 0, -rhs / jnp.where(k2 > 0, k2, 1.0), 0.0)


class BoussinesqNonlinear(eqx.Module):
    """Advection and buoyancy on the packed spectral state
    $(\\hat\\omega, \\hat s)$, times the horizon (normalised time). `grid` is the grid
    the state lives on: the periodic grid, or `box.doubled` for a free-slip box. The
    solver steps the box with `BoxBoussinesqNonlinear` on the box's own
    coefficients; this doubled-domain form is its definition and test reference."""

    ns: NavierStokes2d
    grid: Grid2d
    time_scale: Float[Array, ""]
    box: FreeSlipBox | None = None

    def on_spectrum(self, t, z: Complex[Array, "2 kx ky"]) -> Complex[Array, "2 kx ky"]:
        g = self.grid
        mask = g.dealias_mask
        omega_hat, s_hat = z[0] * mask, z[1] * mask
        vx_hat, vy_hat = velocity(omega_hat, g)
        vx, vy = g.to_physical(vx_hat), g.to_physical(vy_hat)
        dx, dy = g.derivative((1, 0)), g.derivative((0, 1))

        def advect(q):
            flux_x = g.to_spectral(vx * q) * mask
            flux_y = g.to_spectral(vy * q) * mask
            return -(dx * flux_x + dy * flux_y)

        s = g.to_physical(s_hat)
        d_smoke = advect(s)
        if self.box is None:
            d_omega = advect(g.to_physical(omega_hat)) + self.ns.buoyancy * dx * s_hat
            return self.time_scale * jnp.stack([d_omega, d_smoke])
        force_hat = g.to_spectral(self.box.odd_in_y(s)) * mask
        d_omega = advect(g.to_physical(omega_hat)) + self.ns.buoyancy * dx * force_hat
        # The terms have the right parities in exact arithmetic; projecting keeps
        # round-off from seeding mirror-asymmetric modes, which the doubled flow may
        # amplify (they are not part of the box problem).
        return self.time_scale * jnp.stack(
            [
                self.box.project(d_omega, VORTICITY_PARITY),
                self.box.project(d_smoke, SMOKE_PARITY),
            ]
        )

    def __call__(self, t, y, args):
        return pack(self.on_spectrum(t, unpack(y)))


class NavierStokesSolution(eqx.Module):
    """Saved frames (time, x, y) of smoke `s`, velocities `vx`, `vy`, vorticity; fields
    hold NaN unless `status == SolveStatus.SUCCESS`."""

    ts: Float[Array, "*batch time"]
    smoke: Float[Array, "*batch time x y"]
    vx: Float[Array, "*batch time x y"]
    vy: Float[Array, "*batch time x y"]
    vorticity: Float[Array, "*batch time x y"]
    pressure: Float[Array, "*batch time x y"]
    status: Array
    num_steps: Array


DEFAULT_NS_STEPPING = Adaptive(rtol=1e-6, atol=1e-8, solver=diffrax.Tsit5())

BOUNDARIES = ("periodic", "free-slip")


def _domain(grid: Grid2d, boundary: str) -> FreeSlipBox | None:
    if boundary not in BOUNDARIES:
        raise ValueError(
            f"boundary must be one of {BOUNDARIES}, got {boundary!r}: 'periodic' for "
            "a periodic domain, 'free-slip' for a closed box with free-slip walls."
        )
    return FreeSlipBox(grid) if boundary == "free-slip" else None


def _integrate_spectral(
    ns, grid, smoke0, t1, num_saves, vorticity0, discard_first, stepping, boundary
):
    """Checks the input and integrates; returns the box (or None), the grid the state
    lives on, the save fractions and Diffrax's packed spectral states."""
    box = _domain(grid, boundary)
    smoke0 = jnp.asarray(smoke0, dtype=float)
    if smoke0.shape != grid.shape:
        raise ValueError(f"smoke0 has shape {smoke0.shape}, the grid {grid.shape}.")
    omega0 = (
        jnp.zeros(grid.shape)
        if vorticity0 is None
        else jnp.asarray(vorticity0, dtype=float)
    )
    if omega0.shape != grid.shape:
        raise ValueError(f"vorticity0 has shape {omega0.shape}, the grid {grid.shape}.")
    t1 = jnp.asarray(t1, dtype=float)
    check_positive("t1", t1)
    fractions = _save_fractions(num_saves, discard_first)
    if box is not None:
        ys, result, num_steps = integrate_box(
            ns, box, smoke0, omega0, t1, fractions, discard_first, stepping
        )
        return box, box.doubled, fractions, ys, result, num_steps
    linear = DiagonalLinearField(t1 * ns.linear_symbol(grid))
    nonlinear = BoussinesqNonlinear(ns, grid, t1)
    terms = diffrax.MultiTerm(diffrax.ODETerm(nonlinear), diffrax.ODETerm(linear))
    y0 = pack(jnp.stack([grid.to_spectral(omega0), grid.to_spectral(smoke0)]))
    ys, result, num_steps = integrate(terms, y0, fractions, discard_first, stepping)
    return box, grid, fractions, ys, result, num_steps


def solve_navier_stokes(
    ns: NavierStokes2d,
    grid: Grid2d,
    smoke0: ArrayLike,
    t1: ArrayLike,
    num_saves: int,
    *,
    vorticity0: ArrayLike | None = None,
    discard_first: int = 0,
    stepping: FixedStepETDRK4 | Adaptive = DEFAULT_NS_STEPPING,
    boundary: str = "periodic",
    throw: bool = False,
) -> NavierStokesSolution:
    """Integrate from smoke `smoke0` and vorticity `vorticity0` (default: at rest) at
    $t = 0$ to `t1`, saving `num_saves` equispaced frames (the first `discard_first`
    dropped). Default stepping: adaptive Tsit5 (the viscous term is not stiff at the
    resolutions used here) with a PID controller stepping onto the save times.

    `boundary`: `"periodic"` (default; `grid` is the periodic domain) or `"free-slip"`
    (a closed box $[0, L_x] \\times [0, L_y]$ whose `grid.num_points` are the cell
    centres $((i + \\frac12)\\Delta x, (j + \\frac12)\\Delta y)$; input and output
    fields live there). The box is stepped on its own sine/cosine coefficients, as many
    transforms of the box's size per step as the periodic solver takes real FFTs
    (`experiments/benchmarks/solvers_ns.py` times the two).

    `throw=True` raises when the solve does not succeed (see `solve`); by default the
    failure is reported in `status` and the fields hold NaN."""
    box, g, fractions, ys, result, num_steps = _integrate_spectral(
        ns, grid, smoke0, t1, num_saves, vorticity0, discard_first, stepping, boundary
    )
    sol = _solution(ns, box, g, t1, fractions, ys, result, num_steps)
    return eqx.tree_at(
        lambda s: s.smoke, sol, error_if_failed(sol.smoke, sol.status, throw)
    )


def _solution(ns, box, g, t1, fractions, ys, result, num_steps) -> NavierStokesSolution:
    """Physical frames (restricted to the box, if any) from the spectral states."""
    restrict = (lambda f: f) if box is None else box.restrict

    def frame(y):
        z = unpack(y)
        vx_hat, vy_hat = velocity(z[0], g)
        if box is None:
            force_hat = z[1]
        else:
            force_hat = g.to_spectral(box.odd_in_y(g.to_physical(z[1])))
            force_hat = force_hat * g.dealias_mask
        fields = (z[1], vx_hat, vy_hat, z[0], pressure(z[0], force_hat, ns, g))
        return tuple(restrict(g.to_physical(f)) for f in fields)

    smoke, vx, vy, vort, pres = jax.vmap(frame)(ys)
    status = status_code(
        result, jnp.all(jnp.isfinite(smoke)) & jnp.all(jnp.isfinite(vort))
    )
    ok = status == SolveStatus.SUCCESS
    return NavierStokesSolution(
        ts=jnp.asarray(t1, dtype=float) * jnp.asarray(fractions),
        smoke=jnp.where(ok, smoke, jnp.nan),
        vx=jnp.where(ok, vx, jnp.nan),
        vy=jnp.where(ok, vy, jnp.nan),
        vorticity=jnp.where(ok, vort, jnp.nan),
        pressure=jnp.where(ok, pres, jnp.nan),
        status=status,
        num_steps=num_steps,
    )


def sample_smoke(
    key: PRNGKeyArray,
    grid: Grid2d,
    *,
    correlation_length: float = 2.0,
    boundary: str = "periodic",
) -> Float[Array, "x y"]:
    """A smooth random smoke field in [0, 1]: Gaussian noise filtered by
    $\\exp(-|k|^2 \\ell^2 / 2)$ (correlation length $\\ell$), rescaled to [0, 1]. Smooth
    (unlike PDEArena's `abs` of noise) so the spectral solver sees no kinks. For
    `boundary="free-slip"` the noise is filtered as a cosine series on the box's cell
    centres, so the smoke also has zero normal derivative at the walls."""
    if correlation_length <= 0:
        raise ValueError(f"correlation_length must be > 0, got {correlation_length}.")
    box = _domain(grid, boundary)
    noise = jax.random.normal(key, grid.shape)
    g = grid
    if box is not None:
        g, noise = box.doubled, box.extend(noise, SMOKE_PARITY)
    kx, ky = g.wavenumbers
    filt = jnp.exp(-0.5 * (kx**2 + ky**2) * correlation_length**2)
    field = g.to_physical(g.to_spectral(noise) * filt)
    if box is not None:
        field = box.restrict(field)
    return (field - field.min()) / (field.max() - field.min())
