"""Online linear probe: how well a frozen representation predicts a PDE parameter.

A ridge regression (closed form, standardised features) is fitted on one half of a
fixed probe set and scored on the other half by the normalised MSE
$\\sum (\\hat y - y)^2 / \\sum (y - \\bar y)^2$ (1 = predicting the mean). The
probe sets are small (tens of samples for tens of features), so the default ridge
(10, on standardised features) is strong: without it the fit interpolates noise."""

import numpy as np


def design(features, mean, std) -> np.ndarray:
    """Standardised features with a column of ones (the intercept) appended."""
    f = (np.asarray(features, dtype=np.float64) - mean) / std
    return np.concatenate([f, np.ones((len(f), 1))], axis=1)


def ridge_solve(a: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """Ridge weights for the design `a` (last column the intercept, not shrunk)."""
    reg = ridge * np.eye(a.shape[1])
    reg[-1, -1] = 0.0
    return np.linalg.solve(a.T @ a + reg, a.T @ y)


def ridge_probe_nmse(
    train_features: np.ndarray,
    train_targets: np.ndarray,
    test_features: np.ndarray,
    test_targets: np.ndarray,
    ridge: float = 10.0,
) -> float:
    """NMSE on the test half of a ridge regression fitted on the train half."""
    f_tr = np.asarray(train_features, dtype=np.float64)
    f_te = np.asarray(test_features, dtype=np.float64)
    y_tr = np.asarray(train_targets, dtype=np.float64)
    y_te = np.asarray(test_targets, dtype=np.float64)
    if (
        f_tr.ndim != 2
        or f_tr.shape[0] != y_tr.shape[0]
        or f_te.shape[1] != f_tr.shape[1]
    ):
        raise ValueError(
            f"features must be (samples, dim) matching the targets, got {f_tr.shape}, "
            f"{y_tr.shape}, {f_te.shape}."
        )
    mean, std = f_tr.mean(0), f_tr.std(0) + 1e-12
    a_tr, a_te = design(f_tr, mean, std), design(f_te, mean, std)
    w = ridge_solve(a_tr, y_tr, ridge)
    residual = a_te @ w - y_te
    return float(np.sum(residual**2) / np.sum((y_te - y_te.mean()) ** 2))


def effective_rank(features: np.ndarray) -> float:
    """Effective rank (Roy & Vetterli 2007) of a `(samples, dim)` representation:
    $\\exp(-\\sum_i p_i \\log p_i)$ with $p_i = \\sigma_i / \\sum_j \\sigma_j$ the
    normalised singular values of the centred features. 1 for a representation on
    a line, `min(samples, dim)` for equal singular values: it exposes dimensional
    collapse that a per-dimension std does not."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"features must be (samples >= 2, dim), got {f.shape}.")
    sigma = np.linalg.svd(f - f.mean(0), compute_uv=False)
    if sigma.sum() <= 0:
        return 1.0
    p = sigma / sigma.sum()
    p = p[p > 0]
    return float(np.exp(-np.sum(p * np.log(p))))
