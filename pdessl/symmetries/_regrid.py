"""Exact action of symmetries on fields kept on their original (periodic) grid.

Space shifts and Galilean boosts move each time row by a (time-dependent) distance:
done by the Fourier shift theorem, exact for band-limited periodic fields. Time shifts
pick integer frames. Scalings change only the grid spacing and the values. Generators
that bend the grid (projective, rotation) are refused, never approximated.
"""

import jax.numpy as jnp

from ._fields import GridField1d, NotRegriddableError, fourier_shift
from ._generators import AbstractGenerator

__all__ = ["GridField1d", "NotRegriddableError", "fourier_shift", "regrid"]


def regrid(
    generator: AbstractGenerator,
    eps,
    field: GridField1d,
    crop_time: int | None = None,
) -> GridField1d:
    """Apply `generator(eps)` to `field`, returning the transformed solution on a
    uniform grid (each generator implements its own action, `regrid1d`). Time shifts
    need `crop_time` (the output's number of frames): the shift picks the first
    frame, `round(eps / dt)` clipped to the available range."""
    return generator.regrid1d(jnp.asarray(eps), field, crop_time)
