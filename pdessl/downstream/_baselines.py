"""Reference rows for every regression number: the best constant predictor (the
ceiling a learned method must beat to have learnt anything) and, where the PDE allows
it, a physics estimator read off the stored frames (the floor the data permit; each
PDE descriptor names its estimators, see `pdessl.pdes._estimators`).
"""

import numpy as np
import xarray as xr

from pdessl import pdes


def best_constant(labelled_targets) -> np.ndarray:
    """The constant $c$ minimising the NMSE $\\sum_k \\|c - y_k\\|^2 / \\|y_k\\|^2$ over
    the labelled targets: the weighted mean with weights $1/\\|y_k\\|^2$."""
    y = np.asarray(labelled_targets, dtype=np.float64)
    y = y.reshape(len(y), -1)
    w = 1.0 / np.maximum(np.sum(y**2, axis=1), 1e-300)
    return np.sum(w[:, None] * y, axis=0) / np.sum(w)


def physics_estimate(ds: xr.Dataset, target: str) -> np.ndarray | None:
    """The physics estimate of `target` for every sample of `ds`, or None where no
    estimator exists for the file's PDE and target (or the data do not allow it,
    e.g. a closed box for the NS estimator)."""
    name = ds.attrs.get("pde")
    if name not in pdes.names():
        return None
    estimator = pdes.get(name).estimators.get(target)
    if estimator is None:
        return None
    if ds.attrs.get("boundary", "periodic") != "periodic":
        return None
    return estimator(ds)
