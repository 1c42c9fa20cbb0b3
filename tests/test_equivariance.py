import numpy as np
import pytest
import scipy.linalg

from pdessl.downstream import equivariance_scores


def _features(rng, n=600, d=6):
    # Correlated, non-centred features, like a trained representation.
    return rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) + 2.0


def test_recovers_a_known_linear_action(rng):
    h = _features(rng)
    m = 0.4 * rng.standard_normal((6, 6))
    eps = rng.uniform(-1, 1, len(h))
    # The first-order action h' = (I + eps M) h: exactly what the fit can express.
    first = h + eps[:, None] * (h @ m.T)
    s = equivariance_scores(h, first, eps, ridge=1e-6)
    # Exact model, 300 fitting samples for 13 x 6 coefficients, a 1e-6 ridge on
    # standardised inputs: only round-off and the tiny shrinkage remain.
    assert s["equivariance_r2"] > 1 - 1e-6
    # The group element matters: without it the same map is a poor fit (measured
    # ~0.4 here; 0.8 leaves a wide margin for other seeds).
    assert s["blind_r2"] < 0.8
    assert s["invariance"] < s["equivariance_r2"] - 0.1

    # The exact exponential action exp(eps M) h: its second-order part is not in the
    # model, which loses a few per cent at |eps M| ~ 0.4 (measured ~0.99); 0.95
    # is the margin.
    exact = np.stack(
        [scipy.linalg.expm(e * m) @ v for e, v in zip(eps, h, strict=True)]
    )
    s = equivariance_scores(h, exact, eps)
    assert s["equivariance_r2"] > 0.95
    assert s["equivariance_r2"] > s["blind_r2"] + 0.2


def test_an_invariant_and_an_unrelated_encoder(rng):
    h = _features(rng)
    eps = rng.uniform(-1, 1, len(h))
    s = equivariance_scores(h, h.copy(), eps)
    # Invariant: the identity is exact, knowing eps adds nothing.
    assert s["invariance"] == pytest.approx(1.0, abs=1e-12)
    assert abs(s["equivariance_r2"] - s["blind_r2"]) < 1e-3  # ridge shrinkage only
    # Negative control: moved representations unrelated to the originals. Held-out
    # R² of a 13-input fit on 300 noise samples is about -13/300; below 0.05 with a
    # margin for the sampling spread.
    s = equivariance_scores(h, rng.standard_normal(h.shape), eps)
    assert s["equivariance_r2"] < 0.05 and s["invariance"] < 0


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="one shape"):
        equivariance_scores(np.zeros((10, 3)), np.zeros((10, 2)), np.zeros(10))
    with pytest.raises(ValueError, match="at least 8"):
        equivariance_scores(np.zeros((4, 3)), np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="NaN"):
        equivariance_scores(np.full((10, 3), np.nan), np.zeros((10, 3)), np.zeros(10))
