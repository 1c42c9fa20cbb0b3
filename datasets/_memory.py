"""Refuse recipes and generation batches the machine's memory cannot hold.

A recipe with a huge grid (`num_points = 4000000000`) would otherwise start
allocating and hang the machine in swap, or fail deep inside XLA. The estimate is a
lower bound, so nothing that fits is refused: a solve holds, per sample, its saved
trajectory in float64 (`num_saves` frames of every grid point and field) and about
`_WORK_ARRAYS` more float64 arrays of one frame (the ETDRK4 stages and their complex
spectra, or the adaptive solver's stages).
"""

import os

from pdessl import pdes
from pdessl.errors import UserError

_WORK_ARRAYS = 16


def physical_memory() -> int | None:
    """The machine's memory in bytes (None where the system does not tell)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def solve_bytes(recipe, batch_size: int = 1) -> int:
    """Estimated bytes to solve `batch_size` samples of `recipe` at once."""
    points = recipe.num_points * (recipe.num_points_y or 1)
    fields = len(pdes.get(recipe.pde).fields)  # NS: smoke and two velocity components
    return 8 * batch_size * points * fields * (recipe.num_saves + _WORK_ARRAYS)


def _size(n: int | float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    raise AssertionError


def check_memory(recipe, batch_size: int = 1) -> None:
    """Refuse when solving `batch_size` samples would need more than the machine's
    memory, with both figures and the fix."""
    need, have = solve_bytes(recipe, batch_size), physical_memory()
    if have is None or need <= have:
        return
    what = "one sample" if batch_size == 1 else f"a batch of {batch_size} samples"
    fix = (
        "fewer grid points (grid.num_points) or saved frames (time.num_saves)"
        if batch_size == 1 or solve_bytes(recipe) > have
        else f"a smaller --batch-size (at most {have // solve_bytes(recipe)})"
    )
    raise UserError(
        f"solving {what} needs at least {need:,} bytes ({_size(need)}: "
        f"{recipe.num_saves} frames of {recipe.num_points * (recipe.num_points_y or 1):,}"
        f" points in float64), more than this machine's memory, {have:,} bytes "
        f"({_size(have)}). Use {fix}."
    )
