"""Exact action of the Navier–Stokes symmetries on fields kept on a periodic 2-D grid.

Shifts and (linear or quadratic) boosts move each frame along one axis by a
time-dependent distance — Fourier shift theorem, exact for band-limited periodic
fields; time shifts pick integer frames; scaling changes the spacings and the values.
Rotation (which moves the grid) and anything on a walled domain (where shifts and
boosts are not symmetries) are refused.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._generators import (
    AbstractGenerator,
    LinearBoost,
    NSScaling,
    QuadraticBoost,
    SpaceShift,
    TimeShift,
)
from ._regrid import NotRegriddableError, fourier_shift

_SCALING_EXPONENTS = {"vx": -1.0, "vy": -1.0, "p": -2.0, "s": -3.0}


class GridField2d(eqx.Module):
    """Fields `values[name][i, j, k]` at `(t0 + i dt, j dx, k dy)`: `vx`, `vy`, and
    optionally `p` and the smoke `s`. `periodic=False` marks a walled box.

    The pressure is split as `p + x . mean_pressure_gradient(t)`: a quadratic boost
    adds a uniform pressure gradient (the frame acceleration), which is not periodic
    and so is kept apart from the periodic `p`."""

    values: dict[str, Float[Array, "time x y"]]
    t0: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    dt: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    dx: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    dy: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    periodic: bool = eqx.field(static=True, default=True)
    mean_pressure_gradient: Float[Array, "time 2"] | None = None

    @property
    def t(self) -> Float[Array, " time"]:
        nt = next(iter(self.values.values())).shape[0]
        return self.t0 + self.dt * jnp.arange(nt, dtype=jnp.result_type(self.dt))

    @property
    def shape(self) -> tuple[int, int, int]:
        return next(iter(self.values.values())).shape


def _gradient(field: GridField2d) -> Float[Array, "time 2"]:
    if field.mean_pressure_gradient is None:
        return jnp.zeros((field.shape[0], 2))
    return field.mean_pressure_gradient


def _shift_axis(f, shift, length, axis):
    # axis 1 (x) or 2 (y) of (time, x, y); `shift` has one value per frame.
    moved = jnp.moveaxis(f, axis, -1)
    out = fourier_shift(
        moved, jnp.asarray(shift)[:, None] * jnp.ones(moved.shape[:2]), length
    )
    return jnp.moveaxis(out, -1, axis)


def regrid2d(
    generator: AbstractGenerator, eps, field: GridField2d, crop_time: int | None = None
) -> GridField2d:
    """Apply `generator(eps)` to a 2-D Navier–Stokes field on its grid (see module)."""
    eps = jnp.asarray(eps)
    nt = field.shape[0]
    if isinstance(generator, TimeShift):
        if crop_time is None:
            raise ValueError("a regridded time shift needs crop_time (frames to keep).")
        k = jnp.clip(jnp.round(eps / field.dt).astype(int), 0, nt - crop_time)
        values = {
            n: jax.lax.dynamic_slice_in_dim(v, k, crop_time, axis=0)
            for n, v in field.values.items()
        }
        grad = jax.lax.dynamic_slice_in_dim(_gradient(field), k, crop_time, axis=0)
        return GridField2d(
            values,
            field.t0 + k * field.dt,
            field.dt,
            field.dx,
            field.dy,
            field.periodic,
            grad,
        )
    if isinstance(generator, NSScaling):
        values = {
            n: jnp.exp(_SCALING_EXPONENTS[n] * eps) * v for n, v in field.values.items()
        }
        return GridField2d(
            values,
            jnp.exp(2 * eps) * field.t0,
            jnp.exp(2 * eps) * field.dt,
            jnp.exp(eps) * field.dx,
            jnp.exp(eps) * field.dy,
            field.periodic,
            # Pressure scales as e^{-2 eps}, lengths as e^{eps}: gradients e^{-3 eps}.
            jnp.exp(-3 * eps) * _gradient(field),
        )
    if isinstance(generator, SpaceShift | LinearBoost | QuadraticBoost):
        if not field.periodic:
            raise NotRegriddableError(
                f"{generator.name} is not a symmetry of a walled domain."
            )
        axis = 1 if generator.axis == "x" else 2
        spacing = field.dx if axis == 1 else field.dy
        length = spacing * field.shape[axis]
        t = field.t
        if isinstance(generator, SpaceShift):
            shift = eps * length * jnp.ones_like(t)
        elif isinstance(generator, LinearBoost):
            shift = eps * t
        else:
            shift = eps * t**2
        values = {
            n: _shift_axis(v, shift, length, axis) for n, v in field.values.items()
        }
        velocity = "vx" if axis == 1 else "vy"
        if isinstance(generator, LinearBoost):
            values[velocity] = values[velocity] + eps
        elif isinstance(generator, QuadraticBoost):
            values[velocity] = values[velocity] + 2 * eps * t[:, None, None]
            # p~ = p - 2 eps x: a uniform gradient -2 eps along the axis.
            grad = _gradient(field).at[:, axis - 1].add(-2 * eps)
            return GridField2d(
                values, field.t0, field.dt, field.dx, field.dy, field.periodic, grad
            )
        return eqx.tree_at(lambda f: f.values, field, values)
    raise NotRegriddableError(
        f"{type(generator).__name__} has no exact action on the 2-D grid; use the "
        "coordinate-channel form (Augmentation.apply) instead."
    )
