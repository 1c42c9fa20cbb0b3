"""Checks of user-supplied values that run when the values are concrete.

Under `jit`/`vmap` the values are tracers and cannot be inspected; the checks then
defer to the caller (batch entry points validate concrete inputs before tracing).
"""

import jax
import numpy as np


def _concrete(value) -> np.ndarray | None:
    if isinstance(value, jax.core.Tracer):
        return None
    return np.asarray(value)


def check_positive(name: str, value) -> None:
    v = _concrete(value)
    if v is None:
        return
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be finite, got {v}.")
    if not np.all(v > 0):
        raise ValueError(f"{name} must be > 0, got {v}.")


def check_nonnegative(name: str, value) -> None:
    v = _concrete(value)
    if v is None:
        return
    if not np.all(np.isfinite(v)) or not np.all(v >= 0):
        raise ValueError(f"{name} must be finite and >= 0, got {v}.")


def check_finite_field(name: str, value) -> None:
    v = _concrete(value)
    if v is None:
        return
    bad = ~np.isfinite(v)
    if bad.any():
        raise ValueError(
            f"{name} contains {int(bad.sum())} non-finite value(s) (NaN or Inf); "
            "initial conditions must be finite."
        )
