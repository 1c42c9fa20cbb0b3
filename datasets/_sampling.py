"""Drawing and solving one batch of samples of a recipe, on device.

Every sample has its own key, `fold_in` of (seed, split, global index, attempt), so a
sample is the same whichever batch, shard or process computes it, and a redraw after a
failed solve is as reproducible as the first draw.
"""

import zlib

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from pdessl import pdes, solvers

from ._recipe import Recipe

MAX_ATTEMPTS = 8


def split_id(split: str) -> int:
    """A stable integer per split name (CRC32; Python's `hash` is salted per process)."""
    return zlib.crc32(split.encode()) & 0x7FFFFFFF


def sample_keys(seed: int, split: str, indices, attempts) -> jax.Array:
    base = jax.random.fold_in(jax.random.key(seed), split_id(split))

    def one(i, a):
        return jax.random.fold_in(jax.random.fold_in(base, i), a)

    return jax.vmap(one)(jnp.asarray(indices), jnp.asarray(attempts))


def _draw_and_solve(recipe: Recipe, key: jax.Array) -> dict[str, jax.Array]:
    pde = pdes.get(recipe.pde)
    return pde.sample(pde, recipe, key)


@eqx.filter_jit
def _solve_keys(recipe, keys):
    # `recipe` is hashable and not an array: filter_jit treats it as static.
    return jax.vmap(lambda k: _draw_and_solve(recipe, k))(keys)


def solve_samples(
    recipe: Recipe,
    seed: int,
    split: str,
    indices: np.ndarray,
    batch_size: int,
    storage_dtype: str = "float64",
) -> tuple[dict[str, np.ndarray], int]:
    """Draw and solve the samples `indices` (at most `batch_size`), redrawing failed
    ones with the next attempt's key. Returns NumPy arrays and the number of redraws.

    Batches are padded to `batch_size` so that every call has one shape and compiles
    once.
    """
    n = len(indices)
    if n == 0 or n > batch_size:
        raise ValueError(f"need 1 <= len(indices) <= batch_size, got {n}.")
    attempts = np.zeros(n, dtype=np.int64)
    out: dict[str, np.ndarray] | None = None
    todo = np.arange(n)
    redraws = 0
    while todo.size:
        pad = np.concatenate([todo, np.full(batch_size - todo.size, todo[0])])
        keys = sample_keys(seed, split, indices[pad], attempts[pad])
        res = {k: np.asarray(v) for k, v in _solve_keys(recipe, keys).items()}
        # A trajectory finite in float64 can overflow the storage dtype (|u| > 3e38
        # in float32): that is a failed sample too.
        with np.errstate(over="ignore"):
            stored = res["u"].astype(storage_dtype)
        overflow = ~np.all(np.isfinite(stored), axis=tuple(range(1, stored.ndim)))
        res["status"] = np.where(
            (res["status"] == solvers.SolveStatus.SUCCESS) & overflow,
            solvers.SolveStatus.NON_FINITE,
            res["status"],
        )
        if out is None:
            out = {k: np.empty((n, *v.shape[1:]), v.dtype) for k, v in res.items()}
        for k, v in res.items():
            out[k][todo] = v[: todo.size]
        failed = todo[res["status"][: todo.size] != solvers.SolveStatus.SUCCESS]
        if failed.size and attempts[failed].max() + 1 >= MAX_ATTEMPTS:
            raise RuntimeError(
                f"samples {indices[failed].tolist()} failed {MAX_ATTEMPTS} draws in a "
                "row: the recipe's solver settings cannot integrate its own initial "
                "conditions (reduce the step with solver.steps_per_save, or raise the "
                "resolution)."
            )
        attempts[failed] += 1
        redraws += failed.size
        todo = failed
    assert out is not None
    return out, redraws
