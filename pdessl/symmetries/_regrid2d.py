"""Exact action of the Navier–Stokes symmetries on fields kept on a periodic 2-D grid.

Shifts and (linear or quadratic) boosts move each frame along one axis by a
time-dependent distance — Fourier shift theorem, exact for band-limited periodic
fields; time shifts pick integer frames; scaling changes the spacings and the values.
Rotation (which moves the grid) and anything on a walled domain (where shifts and
boosts are not symmetries) are refused.
"""

import jax.numpy as jnp

from ._fields import GridField2d
from ._generators import AbstractGenerator

__all__ = ["GridField2d", "regrid2d"]


def regrid2d(
    generator: AbstractGenerator, eps, field: GridField2d, crop_time: int | None = None
) -> GridField2d:
    """Apply `generator(eps)` to a 2-D Navier–Stokes field on its grid (each
    generator implements its own action, `regrid2d`; see module)."""
    return generator.regrid2d(jnp.asarray(eps), field, crop_time)
