"""One-parameter Lie point symmetry groups, as exact maps of points.

A *point* is a dict of arrays of one common shape: the independent variables
(`t`, `x`, and `y` for 2-D) and the dependent ones (`u` for 1-D PDEs; `vx`, `vy`,
optionally `p` and the smoke `s` for Navier–Stokes), plus scalars such as the domain
length `L`. `act(eps, point)` returns the image of every point under the group element
`exp(eps X)`. Maps are written in closed form (PAPER.md, "Symmetry groups") and are
checked in the tests by the PDE residual of the transformed solutions.

Every generator also knows whether it can be applied to a field *on its original
grid* exactly (`regriddable`) — see `_regrid.py`.
"""

from math import inf
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._fields import (
    SCALING_EXPONENTS,
    GridField1d,
    GridField2d,
    NotRegriddableError,
    fourier_shift,
    pressure_gradient,
    shift_axis,
)

Point = dict[str, Array]


class AbstractGenerator(eqx.Module):
    """A one-parameter group acting on points. `strength` s sets the sampling range:
    `eps ~ U(-s, s)`, or `U(0, s)` where `one_sided` (time shifts)."""

    strength: float = eqx.field(static=True)
    name: ClassVar[str]
    one_sided: ClassVar[bool] = False
    regriddable: ClassVar[bool] = True
    # Per-sample values the map reads from the point besides the coordinates and
    # fields (e.g. a PDE parameter the group depends on); views pass them in.
    needs: ClassVar[tuple[str, ...]] = ()

    def __check_init__(self):
        # Static, so checked here once rather than under jit: a negative or NaN
        # strength would make `Augmentation.sample` draw from an empty/NaN range.
        if not (isinstance(self.strength, (int, float)) and 0 <= self.strength < inf):
            raise ValueError(
                f"{type(self).__name__} strength must be a finite number >= 0, got "
                f"{self.strength!r}."
            )

    def act(self, eps: Float[Array, ""], p: Point) -> Point:
        raise NotImplementedError

    def regrid1d(self, eps, field: GridField1d, crop_time=None) -> GridField1d:
        """The transformed 1-D solution on a uniform grid (exact), where the group
        has such an action; `crop_time` frames for time shifts."""
        raise NotRegriddableError(
            f"{type(self).__name__} has no exact action on a uniform grid; use the "
            "coordinate-channel form (Augmentation.apply) instead."
        )

    def regrid2d(self, eps, field: GridField2d, crop_time=None) -> GridField2d:
        """The transformed 2-D field on its grid (exact), where the group has such
        an action."""
        raise NotRegriddableError(
            f"{type(self).__name__} has no exact action on the 2-D grid; use the "
            "coordinate-channel form (Augmentation.apply) instead."
        )

    def __call__(self, eps, p: Point) -> Point:
        out = dict(p)
        out.update(self.act(jnp.asarray(eps), p))
        return out


class TimeShift(AbstractGenerator):
    """$t \\mapsto t + \\epsilon$ (every autonomous PDE)."""

    name: ClassVar[str] = "time_shift"
    one_sided: ClassVar[bool] = True

    def act(self, eps, p):
        return {"t": p["t"] + eps}

    def _first_frame(self, eps, dt, nt, crop_time):
        if crop_time is None:
            raise ValueError("a regridded time shift needs crop_time (frames to keep).")
        return jnp.clip(jnp.round(eps / dt).astype(int), 0, nt - crop_time)

    def regrid1d(self, eps, field, crop_time=None):
        k = self._first_frame(eps, field.dt, field.u.shape[0], crop_time)
        u = jax.lax.dynamic_slice_in_dim(field.u, k, crop_time, axis=0)
        return GridField1d(u, field.t0 + k * field.dt, field.dt, field.dx, field.params)

    def regrid2d(self, eps, field, crop_time=None):
        k = self._first_frame(eps, field.dt, field.shape[0], crop_time)
        values = {
            n: jax.lax.dynamic_slice_in_dim(v, k, crop_time, axis=0)
            for n, v in field.values.items()
        }
        grad = jax.lax.dynamic_slice_in_dim(pressure_gradient(field), k, crop_time, 0)
        return GridField2d(
            values,
            field.t0 + k * field.dt,
            field.dt,
            field.dx,
            field.dy,
            field.periodic,
            grad,
        )


class SpaceShift(AbstractGenerator):
    """$x \\mapsto x + \\epsilon L$ along `axis` ("x" or "y"); `eps` is a fraction of
    the domain length `L` (of `Lx`/`Ly` in 2-D), as in LPSDA. Exact on periodic
    domains only."""

    axis: str = eqx.field(static=True, default="x")
    name: ClassVar[str] = "space_shift"

    def act(self, eps, p):
        length = p["L"] if self.axis == "x" and "L" in p else p[f"L{self.axis}"]
        return {self.axis: p[self.axis] + eps * length}

    def regrid1d(self, eps, field, crop_time=None):
        # u~(x) = u(x - eps L): the pattern moves right by eps L.
        return eqx.tree_at(
            lambda f: f.u,
            field,
            fourier_shift(field.u, eps * field.length, field.length),
        )

    def regrid2d(self, eps, field, crop_time=None):
        return _shift_2d(self, field, lambda t, length: eps * length * jnp.ones_like(t))


class GalileanBoost(AbstractGenerator):
    """$(x, u) \\mapsto (x + \\epsilon t, u + \\epsilon)$: KS, KdV, Burgers."""

    name: ClassVar[str] = "galilean_boost"

    def act(self, eps, p):
        return {"x": p["x"] + eps * p["t"], "u": p["u"] + eps}

    def regrid1d(self, eps, field, crop_time=None):
        shifted = fourier_shift(field.u, eps * field.t, field.length)
        return eqx.tree_at(lambda f: f.u, field, shifted + eps)


class Scaling(AbstractGenerator):
    """$(t, x, u) \\mapsto (e^{a_t\\epsilon} t, e^{a_x\\epsilon} x, e^{a_u\\epsilon} u)$.

    KdV: $(a_t, a_x, a_u) = (3, 1, -2)$; Burgers: $(2, 1, -1)$ (viscosity fixed).
    Exact on the grid: it rescales `dt`, `dx` and the values."""

    exponents: tuple[float, float, float] = eqx.field(
        static=True, default=(3.0, 1.0, -2.0), converter=lambda e: tuple(map(float, e))
    )
    name: ClassVar[str] = "scaling"

    def act(self, eps, p):
        at, ax, au = self.exponents
        return {
            "t": jnp.exp(at * eps) * p["t"],
            "x": jnp.exp(ax * eps) * p["x"],
            "u": jnp.exp(au * eps) * p["u"],
        }

    def regrid1d(self, eps, field, crop_time=None):
        at, ax, au = self.exponents
        return GridField1d(
            jnp.exp(au * eps) * field.u,
            jnp.exp(at * eps) * field.t0,
            jnp.exp(at * eps) * field.dt,
            jnp.exp(ax * eps) * field.dx,
            field.params,
        )


class Projective(AbstractGenerator):
    """Burgers' projective group, generator $t^2\\partial_t + t x \\partial_x +
    (x - t u)\\partial_u$:
    $(t, x, u) \\mapsto (\\frac{t}{1-\\epsilon t}, \\frac{x}{1-\\epsilon t},
    u (1 - \\epsilon t) + \\epsilon x)$, defined where $1 - \\epsilon t > 0$.

    It maps a uniform space-time grid to a non-uniform one, so it has no exact
    regridded form. Where $1-\\epsilon t \\le 0$ the result is NaN (never a silent
    wrong value): keep $|\\epsilon| < 1/t_{max}$."""

    name: ClassVar[str] = "projective"
    regriddable: ClassVar[bool] = False

    def act(self, eps, p):
        d = 1 - eps * p["t"]
        d = jnp.where(d > 0, d, jnp.nan)
        return {"t": p["t"] / d, "x": p["x"] / d, "u": p["u"] * d + eps * p["x"]}


# --- Navier–Stokes -------------------------------------------------------------------


class NSScaling(AbstractGenerator):
    """$(t, x, y, v_x, v_y, p, s) \\mapsto (e^{2\\epsilon}t, e^{\\epsilon}x,
    e^{\\epsilon}y, e^{-\\epsilon}v_x, e^{-\\epsilon}v_y, e^{-2\\epsilon}p,
    e^{-3\\epsilon}s)$. The smoke exponent -3 keeps the buoyancy force $b s$ in
    balance with $v_t$ for a fixed buoyancy $b$ (and $\\nu$, $\\kappa$ fixed)."""

    name: ClassVar[str] = "scaling"

    def act(self, eps, p):
        out = {
            "t": jnp.exp(2 * eps) * p["t"],
            "x": jnp.exp(eps) * p["x"],
            "y": jnp.exp(eps) * p["y"],
            "vx": jnp.exp(-eps) * p["vx"],
            "vy": jnp.exp(-eps) * p["vy"],
        }
        if "p" in p:
            out["p"] = jnp.exp(-2 * eps) * p["p"]
        if "s" in p:
            out["s"] = jnp.exp(-3 * eps) * p["s"]
        return out

    def regrid2d(self, eps, field, crop_time=None):
        values = {
            n: jnp.exp(SCALING_EXPONENTS[n] * eps) * v for n, v in field.values.items()
        }
        return GridField2d(
            values,
            jnp.exp(2 * eps) * field.t0,
            jnp.exp(2 * eps) * field.dt,
            jnp.exp(eps) * field.dx,
            jnp.exp(eps) * field.dy,
            field.periodic,
            # Pressure scales as e^{-2 eps}, lengths as e^{eps}: gradients e^{-3 eps}.
            jnp.exp(-3 * eps) * pressure_gradient(field),
        )


class Rotation(AbstractGenerator):
    """Rotation of $(x, y)$ and $(v_x, v_y)$ by the angle $\\epsilon$ about the origin.
    Exact for Navier–Stokes without body force; with buoyancy along a fixed $+y$ it is
    NOT a symmetry (gravity does not rotate) — an approximate augmentation only. Not
    regriddable (a rotated square grid is not the grid)."""

    name: ClassVar[str] = "rotation"
    regriddable: ClassVar[bool] = False

    def act(self, eps, p):
        c, s = jnp.cos(eps), jnp.sin(eps)
        return {
            "x": c * p["x"] - s * p["y"],
            "y": s * p["x"] + c * p["y"],
            "vx": c * p["vx"] - s * p["vy"],
            "vy": s * p["vx"] + c * p["vy"],
        }


class LinearBoost(AbstractGenerator):
    """Galilean boost along `axis`: $(x, v_x) \\mapsto (x + \\epsilon t, v_x +
    \\epsilon)$ (or in y). The smoke is carried along: $s$ is unchanged as a function
    of the moving point."""

    axis: str = eqx.field(static=True, default="x")
    name: ClassVar[str] = "linear_boost"

    def act(self, eps, p):
        v = "vx" if self.axis == "x" else "vy"
        return {self.axis: p[self.axis] + eps * p["t"], v: p[v] + eps}

    def regrid2d(self, eps, field, crop_time=None):
        out = _shift_2d(self, field, lambda t, length: eps * t)
        velocity = "v" + self.axis
        values = dict(out.values, **{velocity: out.values[velocity] + eps})
        return eqx.tree_at(lambda f: f.values, out, values)


class QuadraticBoost(AbstractGenerator):
    """Accelerating frame along `axis`: $(x, v_x, p) \\mapsto (x + \\epsilon t^2,
    v_x + 2\\epsilon t, p - 2\\epsilon x)$ (or in y). The frame acceleration $2\\epsilon$
    is absorbed by the pressure gradient; here $x$ in $p - 2\\epsilon x$ is the
    *original* coordinate. Without a pressure channel the velocity and coordinates
    still transform exactly; only the pressure is then left implicit."""

    axis: str = eqx.field(static=True, default="x")
    name: ClassVar[str] = "quadratic_boost"

    def act(self, eps, p):
        v = "vx" if self.axis == "x" else "vy"
        t = p["t"]
        out = {self.axis: p[self.axis] + eps * t**2, v: p[v] + 2 * eps * t}
        if "p" in p:
            out["p"] = p["p"] - 2 * eps * p[self.axis]
        return out

    def regrid2d(self, eps, field, crop_time=None):
        out = _shift_2d(self, field, lambda t, length: eps * t**2)
        velocity = "v" + self.axis
        t = field.t
        values = dict(
            out.values, **{velocity: out.values[velocity] + 2 * eps * t[:, None, None]}
        )
        # p~ = p - 2 eps x: a uniform gradient -2 eps along the axis.
        axis = 0 if self.axis == "x" else 1
        grad = pressure_gradient(field).at[:, axis].add(-2 * eps)
        return GridField2d(
            values, field.t0, field.dt, field.dx, field.dy, field.periodic, grad
        )


def _shift_2d(generator, field, shift_of):
    """Every field moved along `generator.axis` by `shift_of(t, length)` per frame
    (Fourier shift; shifts and boosts are symmetries of periodic domains only)."""
    if not field.periodic:
        raise NotRegriddableError(
            f"{generator.name} is not a symmetry of a walled domain."
        )
    axis = 1 if generator.axis == "x" else 2
    spacing = field.dx if axis == 1 else field.dy
    length = spacing * field.shape[axis]
    shift = shift_of(field.t, length)
    values = {n: shift_axis(v, shift, length, axis) for n, v in field.values.items()}
    return eqx.tree_at(lambda f: f.values, field, values)
