"""Resampling a periodic 1-D trajectory onto another uniform grid (an encoder's).

- Space: periodic Fourier interpolation. The new grid keeps the period $L$ and has
  $n' = \\mathrm{round}(L / \\Delta x_{target})$ points, so the new spacing is $L / n'$
  (within half a point of the target; `Resampled.dx` holds it). Going finer zero-pads
  the spectrum (exact for band-limited fields), going coarser drops the modes the new
  grid cannot hold (the band-limited projection). Nyquist modes are dropped.
- Time: the field is not periodic in time, so it is interpolated by local Lagrange
  polynomials of degree `order` (the `order + 1` nearest frames, shifted inward at the
  ends), with error $O(\\Delta t^{\\,order+1})$. The error is *measured on the data*:
  the same interpolation applied to every other frame predicts the frames between;
  the relative error of that prediction (at twice the data's step, so an upper bound in
  practice) is returned as `time_error` and the resampling refused above `tolerance`.
"""

import dataclasses

import numpy as np
from jaxtyping import Float

TIME_TOLERANCE = 1e-3  # default bound on the measured relative time-interpolation error


class ResampleError(ValueError):
    """The data cannot be brought honestly onto the requested grid."""


@dataclasses.dataclass(frozen=True)
class Resampled:
    """A trajectory `u` `(time, x)` on the grid `t0 + i dt`, `j dx` (period
    `u.shape[1] * dx`), and the measured relative time-interpolation error."""

    u: np.ndarray
    t0: float
    dt: float
    dx: float
    time_error: float


def fourier_resample(u: Float[np.ndarray, "*rows x"], num_points: int) -> np.ndarray:
    """Periodic rows of `u` on `num_points` equispaced points of the same period."""
    n = u.shape[-1]
    u_hat = np.fft.rfft(u, axis=-1)
    keep = min(n, num_points) // 2  # modes 0..keep-1; Nyquist modes dropped
    out = np.zeros((*u.shape[:-1], num_points // 2 + 1), dtype=u_hat.dtype)
    out[..., :keep] = u_hat[..., :keep]
    return np.fft.irfft(out, n=num_points, axis=-1) * (num_points / n)


def lagrange_resample(
    u: Float[np.ndarray, "time ..."], t_old: np.ndarray, t_new: np.ndarray, order: int
) -> np.ndarray:
    """Frames of `u` at times `t_old` (uniform) interpolated to `t_new` by local
    Lagrange polynomials of degree `order` through the nearest `order + 1` frames."""
    nt = len(t_old)
    if nt < order + 1:
        raise ResampleError(
            f"{nt} frames are too few for degree-{order} interpolation in time."
        )
    dt = t_old[1] - t_old[0]
    s = (np.asarray(t_new) - t_old[0]) / dt  # fractional frame index
    first = np.clip(np.floor(s).astype(int) - (order - 1) // 2, 0, nt - order - 1)
    stencil = first[:, None] + np.arange(order + 1)[None, :]
    nodes = stencil.astype(float)
    weights = np.ones_like(nodes)
    for m in range(order + 1):
        for j in range(order + 1):
            if j != m:
                weights[:, m] *= (s - nodes[:, j]) / (nodes[:, m] - nodes[:, j])
    return np.einsum("km,km...->k...", weights, u[stencil])


def time_interpolation_error(u: np.ndarray, order: int) -> float:
    """Relative error of degree-`order` interpolation from the even frames onto the
    odd ones: the interpolation error at twice the data's step, measured."""
    if len(u) < 2 * (order + 1):
        return float("inf")
    t = np.arange(len(u), dtype=float)
    even, odd = t[::2], t[1::2]
    pred = lagrange_resample(u[::2], even, odd, order)
    return float(np.linalg.norm(pred - u[1::2]) / max(np.linalg.norm(u), 1e-300))


def resample(
    u: Float[np.ndarray, "time x"],
    *,
    dt: float,
    dx: float,
    new_dt: float,
    new_dx: float,
    t0: float = 0.0,
    order: int = 5,
    tolerance: float = TIME_TOLERANCE,
) -> Resampled:
    """`u` `(time, x)` on `t0 + i dt`, `j dx` (periodic in x) resampled to steps
    `new_dt` and (nearly, see the module docstring) `new_dx`, over the same time span.

    **Raises** `ResampleError` when the time interpolation's measured error exceeds
    `tolerance` (the data's dt is too coarse for the field's time scale) or there are
    too few frames. The time step is left alone when `new_dt` equals `dt` to 1e-9.
    """
    u = np.asarray(u, dtype=np.float64)
    nt, nx = u.shape
    length = nx * dx
    n_new = max(2, round(length / new_dx))
    u = fourier_resample(u, n_new)
    if abs(new_dt / dt - 1) < 1e-9:
        return Resampled(u, t0, dt, length / n_new, 0.0)
    if nt < 2 * (order + 1):
        raise ResampleError(
            f"{nt} frames are too few to measure the error of degree-{order} "
            f"interpolation in time (need {2 * (order + 1)})."
        )
    error = time_interpolation_error(u, order)
    if not error <= tolerance:
        raise ResampleError(
            f"time interpolation from dt {dt:.4g} to {new_dt:.4g} is not accurate "
            f"enough: degree-{order} interpolation at twice the data's step misses "
            f"the frames between by {error:.2g} (relative; tolerance {tolerance:.2g}). "
            "The data are too coarse in time for the encoder: use data saved more "
            "often."
        )
    t_old = np.arange(nt) * dt
    num_new = int(np.floor(t_old[-1] / new_dt * (1 + 1e-12))) + 1
    t_new = np.arange(num_new) * new_dt
    u = lagrange_resample(u, t_old, t_new, order)
    return Resampled(u, t0, new_dt, length / n_new, error)
