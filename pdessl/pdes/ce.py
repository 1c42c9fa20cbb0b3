"""The combined equation of Brandstetter, Worrall & Welling (2022),
u_t + (alpha u^2 - beta u_x + gamma u_xx)_x = 0, with per-sample (alpha, beta, gamma):
Burgers at (1/2, nu, 0), this package's KdV at (1/2, 0, 1).

Physics estimator: the equation is linear in its coefficients, so integrating it over
pairs of frame intervals with Simpson's rule,
u_{j+1} - u_{j-1} = alpha A_j + beta B_j + gamma C_j with A = S(-(u^2)_x),
B = S(u_xx), C = S(-u_xxx) (S the Simpson sum, space derivatives spectral), gives
(alpha, beta, gamma) by least squares over frames and grid points, per sample.
"""

import numpy as np
import xarray as xr

from pdessl import symmetries
from pdessl.solvers._combined import Combined
from pdessl.symmetries._combined import CombinedGalileanBoost

from . import _one_d
from ._descriptor import PDE, register
from ._estimators import simpson_pairs, wavenumbers


def coefficients(ds: xr.Dataset) -> np.ndarray:
    """Per-sample `(alpha, beta, gamma)` `(sample, 3)` by least squares on the
    Simpson-integrated equation (see module)."""
    u = np.asarray(ds.u.values, dtype=np.float64)
    if u.ndim != 3 or u.shape[1] < 3:
        raise ValueError("the estimator needs 1-D fields with >= 3 frames.")
    k = wavenumbers(u.shape[2], ds.dx.values)[:, None, :]

    def d(f, order):
        return np.real(np.fft.ifft((1j * k) ** order * np.fft.fft(f, axis=2), axis=2))

    dt = ds.dt.values
    columns = [
        simpson_pairs(-d(u**2, 1), dt),
        simpson_pairs(d(u, 2), dt),
        simpson_pairs(-d(u, 3), dt),
    ]
    a = np.stack([c.reshape(len(u), -1) for c in columns], axis=2)
    b = (u[:, 2:] - u[:, :-2]).reshape(len(u), -1)
    return np.stack([np.linalg.lstsq(a[i], b[i], rcond=None)[0] for i in range(len(u))])


def _one(index):
    return lambda ds: coefficients(ds)[:, index]


CE = register(
    PDE(
        name="ce",
        ndim=1,
        fields=("u",),
        view_fields=("u",),
        parameters=("alpha", "beta", "gamma"),
        view_variables=("L", "alpha"),
        generators=lambda: (
            symmetries.TimeShift(0.0),
            symmetries.SpaceShift(0.5),
            CombinedGalileanBoost(0.4),
        ),
        # The coefficients are constants of the equation: every symmetry keeps them.
        keeps={"*": ("space_shift", "galilean_boost")},
        solver=lambda p: Combined(p["alpha"], p["beta"], p["gamma"]),
        sample=_one_d.sample,
        layout=_one_d.layout,
        estimators={
            "alpha,beta,gamma": coefficients,
            "alpha": _one(0),
            "beta": _one(1),
            "gamma": _one(2),
        },
    )
)
