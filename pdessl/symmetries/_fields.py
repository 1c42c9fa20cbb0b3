"""Fields kept on their original grid, for the exact regridded action of the
symmetries: 1-D trajectories and 2-D Navier–Stokes fields on periodic (or walled)
grids, and the Fourier shift that moves periodic rows exactly."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float


class NotRegriddableError(ValueError):
    """The generator has no exact action on a field on its original grid."""


class GridField1d(eqx.Module):
    """A 1-D trajectory `u[i, j] = u(t0 + i dt, j dx)` on a periodic domain of
    length `nx * dx`."""

    u: Float[Array, "time x"] = eqx.field(converter=jnp.asarray)
    t0: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    dt: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    dx: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    # The sample's PDE parameters (scalars by name) for generators whose action
    # depends on one (`AbstractGenerator.needs`); carried through every map.
    params: dict[str, Float[Array, ""]] = eqx.field(
        default_factory=dict, converter=lambda d: {k: jnp.asarray(d[k]) for k in d}
    )

    @property
    def t(self) -> Float[Array, " time"]:
        return self.t0 + self.dt * jnp.arange(self.u.shape[0], dtype=self.dt.dtype)

    @property
    def length(self) -> Float[Array, ""]:
        return self.dx * self.u.shape[1]


def fourier_shift(u: Float[Array, "... x"], shift, length) -> Float[Array, "... x"]:
    r"""$u(x - \delta)$ for the periodic rows of `u`; `shift` broadcasts over the
    leading axes (one shift per row for Galilean boosts)."""
    n = u.shape[-1]
    lead = u.ndim - 1
    k = (2 * jnp.pi / length) * jnp.arange(n // 2 + 1, dtype=float).reshape(
        (1,) * lead + (-1,)
    )
    shift = jnp.broadcast_to(jnp.asarray(shift, dtype=float), u.shape[:-1])[..., None]
    phase = jnp.exp(-1j * k * shift)
    u_hat = jnp.fft.rfft(u, axis=-1)
    if n % 2 == 0:
        # The Nyquist coefficient of a real row is real and its shift is not
        # representable on the grid; at grid points the shifted Nyquist wave is the
        # wave times cos(k delta), so keep that real projection.
        phase = phase.at[..., -1].set(jnp.cos(k[..., -1] * shift[..., 0]))
        u_hat = u_hat.at[..., -1].set(u_hat[..., -1].real)
    return jnp.fft.irfft(u_hat * phase, n=n, axis=-1)


SCALING_EXPONENTS = {"vx": -1.0, "vy": -1.0, "p": -2.0, "s": -3.0}


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


def pressure_gradient(field: GridField2d) -> Float[Array, "time 2"]:
    if field.mean_pressure_gradient is None:
        return jnp.zeros((field.shape[0], 2))
    return field.mean_pressure_gradient


def shift_axis(f, shift, length, axis):
    # axis 1 (x) or 2 (y) of (time, x, y); `shift` has one value per frame.
    moved = jnp.moveaxis(f, axis, -1)
    out = fourier_shift(
        moved, jnp.asarray(shift)[:, None] * jnp.ones(moved.shape[:2]), length
    )
    return jnp.moveaxis(out, -1, axis)
