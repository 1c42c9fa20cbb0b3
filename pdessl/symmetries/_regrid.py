"""Exact action of symmetries on fields kept on their original (periodic) grid.

Space shifts and Galilean boosts move each time row by a (time-dependent) distance:
done by the Fourier shift theorem, exact for band-limited periodic fields. Time shifts
pick integer frames. Scalings change only the grid spacing and the values. Generators
that bend the grid (projective, rotation) are refused, never approximated.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._generators import (
    AbstractGenerator,
    GalileanBoost,
    Scaling,
    SpaceShift,
    TimeShift,
)


class NotRegriddableError(ValueError):
    """The generator has no exact action on a field on its original grid."""


class GridField1d(eqx.Module):
    """A 1-D trajectory `u[i, j] = u(t0 + i dt, j dx)` on a periodic domain of
    length `nx * dx`."""

    u: Float[Array, "time x"] = eqx.field(converter=jnp.asarray)
    t0: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    dt: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    dx: Float[Array, ""] = eqx.field(converter=jnp.asarray)

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


def regrid(
    generator: AbstractGenerator,
    eps,
    field: GridField1d,
    crop_time: int | None = None,
) -> GridField1d:
    """Apply `generator(eps)` to `field`, returning the transformed solution on a
    uniform grid. Time shifts need `crop_time` (the output's number of frames): the
    shift picks the first frame, `round(eps / dt)` clipped to the available range."""
    eps = jnp.asarray(eps)
    if isinstance(generator, TimeShift):
        if crop_time is None:
            raise ValueError("a regridded time shift needs crop_time (frames to keep).")
        nt = field.u.shape[0]
        k = jnp.clip(jnp.round(eps / field.dt).astype(int), 0, nt - crop_time)
        u = jax.lax.dynamic_slice_in_dim(field.u, k, crop_time, axis=0)
        return GridField1d(u, field.t0 + k * field.dt, field.dt, field.dx)
    if isinstance(generator, SpaceShift):
        # u~(x) = u(x - eps L): the pattern moves right by eps L.
        return eqx.tree_at(
            lambda f: f.u,
            field,
            fourier_shift(field.u, eps * field.length, field.length),
        )
    if isinstance(generator, GalileanBoost):
        shifted = fourier_shift(field.u, eps * field.t, field.length)
        return eqx.tree_at(lambda f: f.u, field, shifted + eps)
    if isinstance(generator, Scaling):
        at, ax, au = generator.exponents
        return GridField1d(
            jnp.exp(au * eps) * field.u,
            jnp.exp(at * eps) * field.t0,
            jnp.exp(at * eps) * field.dt,
            jnp.exp(ax * eps) * field.dx,
        )
    raise NotRegriddableError(
        f"{type(generator).__name__} has no exact action on a uniform grid; use the "
        "coordinate-channel form (Augmentation.apply) instead."
    )
