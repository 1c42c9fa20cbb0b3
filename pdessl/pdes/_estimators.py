"""Physics estimators: a PDE parameter read off every stored frame of a trajectory,
the floor the data permit (the learned methods see crops; these say what is
recoverable, not what a crop shows).

- **Burgers viscosity** from the energy identity of periodic Burgers,
  $\\frac{d}{dt} \\tfrac12 \\int u^2 dx = -\\nu \\int u_x^2 dx$ (the advective term
  $\\int u^2 u_x dx$ vanishes), integrated over pairs of frame intervals with
  Simpson's rule: $E_{j+1} - E_{j-1} = -\\nu \\frac{\\Delta t}{3} (D_{j-1} + 4 D_j +
  D_{j+1})$, $u_x$ spectral; $\\nu$ by least squares over $j$.
- **Navier–Stokes buoyancy** from the vorticity equation on the periodic domain,
  $\\omega_t + \\mathbf u\\cdot\\nabla\\omega = \\nu\\Delta\\omega + b\\,\\partial_x s$,
  in the same Simpson-integrated form, $\\omega = \\partial_x v_y - \\partial_y v_x$
  and all space derivatives spectral, $\\nu$ from the file; $b$ by least squares over
  frames and grid points.
"""

import numpy as np
import xarray as xr


def wavenumbers(n: int, d) -> np.ndarray:
    """Angular wavenumbers `(samples, n)` for per-sample spacings `d`."""
    return 2 * np.pi * np.fft.fftfreq(n)[None, :] / np.asarray(d)[:, None]


def simpson_pairs(values: np.ndarray, dt) -> np.ndarray:
    """$\\frac{\\Delta t}{3}(f_{j-1} + 4 f_j + f_{j+1})$ along axis 1, j interior."""
    dt = np.asarray(dt, dtype=np.float64).reshape(-1, *([1] * (values.ndim - 1)))
    return dt / 3 * (values[:, :-2] + 4 * values[:, 1:-1] + values[:, 2:])


def burgers_viscosity(ds: xr.Dataset) -> np.ndarray:
    """Per-sample viscosity of periodic Burgers data from the energy identity."""
    u = np.asarray(ds.u.values, dtype=np.float64)  # (sample, time, x)
    if u.ndim != 3 or u.shape[1] < 3:
        raise ValueError("the energy identity needs 1-D fields with >= 3 frames.")
    dx, dt = ds.dx.values, ds.dt.values
    k = wavenumbers(u.shape[2], dx)[:, None, :]
    ux = np.real(np.fft.ifft(1j * k * np.fft.fft(u, axis=2), axis=2))
    energy = 0.5 * np.sum(u**2, axis=2) * dx[:, None]
    dissipation = np.sum(ux**2, axis=2) * dx[:, None]
    lhs = energy[:, 2:] - energy[:, :-2]
    rhs = -simpson_pairs(dissipation, dt)
    return np.sum(lhs * rhs, axis=1) / np.sum(rhs**2, axis=1)


def ns_buoyancy(ds: xr.Dataset) -> np.ndarray:
    """Per-sample buoyancy of periodic Navier–Stokes smoke data by a least-squares
    fit of the vorticity equation (smoke `u`, velocities `vx`, `vy`)."""
    if ds.attrs.get("boundary", "periodic") != "periodic":
        raise ValueError("the buoyancy estimator needs periodic data.")
    s, vx, vy = (np.asarray(ds[f].values, dtype=np.float64) for f in ("u", "vx", "vy"))
    if s.ndim != 4 or s.shape[1] < 3:
        raise ValueError("the buoyancy estimator needs 2-D fields with >= 3 frames.")
    kx = wavenumbers(s.shape[2], ds.dx.values)[:, None, :, None]
    ky = wavenumbers(s.shape[3], ds.dy.values)[:, None, None, :]

    def d(f, k):
        return np.real(np.fft.ifftn(1j * k * np.fft.fftn(f, axes=(2, 3)), axes=(2, 3)))

    omega = d(vy, kx) - d(vx, ky)
    w_hat = np.fft.fftn(omega, axes=(2, 3))
    laplacian = np.real(np.fft.ifftn(-(kx**2 + ky**2) * w_hat, axes=(2, 3)))
    nu = np.asarray(ds.nu.values).reshape(-1, 1, 1, 1)
    rest = -(vx * d(omega, kx) + vy * d(omega, ky)) + nu * laplacian
    lhs = omega[:, 2:] - omega[:, :-2] - simpson_pairs(rest, ds.dt.values)
    rhs = simpson_pairs(d(s, kx), ds.dt.values)
    axes = (1, 2, 3)
    return np.sum(lhs * rhs, axis=axes) / np.sum(rhs**2, axis=axes)
