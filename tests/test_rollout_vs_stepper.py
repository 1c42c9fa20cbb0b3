"""The decoded latent rollout and a time-stepper's rollout are scored on the same
crops, with the same per-crop standardisation (`pdessl.downstream._decoder`)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdessl
from pdessl import datasets
from pdessl.downstream._decoder import (
    CropDecoder,
    rollout_errors,
    stepper_trajectories,
)
from pdessl.training import export_untrained, load_config
from pdessl.training._jepa import JEPAPredictor

TW = 8


@pytest.fixture(scope="module")
def setup(burgers_tiny_48, tmp_path_factory):
    path = tmp_path_factory.mktemp("roll") / "enc.eqx"
    config = load_config("tiny", field_scaling="view")
    export_untrained(config, burgers_tiny_48, path, samples=16)
    encoder = pdessl.load_encoder(path)
    ds = datasets.open_dataset(burgers_tiny_48).isel(sample=slice(0, 12)).load()
    return encoder, ds


def _oracle(window, cond):
    """A 'time-stepper' that knows the trajectory (flattened in `cond`): it finds
    the window in it and returns the true next window (zeros past the end)."""
    frames = cond.reshape(-1, window.shape[1])
    padded = jnp.concatenate([frames, jnp.zeros_like(frames)])
    starts = jnp.arange(frames.shape[0] - TW + 1)

    def distance(s):
        w = jax.lax.dynamic_slice_in_dim(frames, s, TW)
        return jnp.sum((w - window) ** 2)

    s = starts[jnp.argmin(jax.vmap(distance)(starts))]
    return jax.lax.dynamic_slice_in_dim(padded, s + TW, TW)


def test_a_stepper_that_knows_the_future_scores_zero_on_the_decoder_crops(setup):
    encoder, ds = setup
    u = np.asarray(ds.u.values, np.float32)
    scale = 2.5  # the stepper works on u / scale; the fill is back in units of u
    cond = (u / scale).reshape(len(u), -1)
    filled = stepper_trajectories(
        _oracle, u, cond, context=encoder.crop_time, time_window=TW, scale=scale
    )
    np.testing.assert_allclose(filled, u, rtol=1e-5, atol=1e-5)

    # A stepper predicting nothing: the context frames stay true, the rest is zero.
    zeros = stepper_trajectories(
        lambda w: jnp.zeros_like(w), u, None, context=encoder.crop_time, time_window=TW
    )
    np.testing.assert_array_equal(zeros[:, : encoder.crop_time], u[:, :16])
    assert not np.any(zeros[:, encoder.crop_time :])

    key = jax.random.key(0)
    predictor = JEPAPredictor(encoder.dim, (16,), max_delta=8, key=key)
    decoder = CropDecoder(encoder.dim, (encoder.crop_time, encoder.crop_space), key=key)
    # An affine map of each trajectory changes the raw field but, with per-crop
    # standardisation, not the crops the decoder is scored on; a time shift does.
    shifted = np.roll(u, 3, axis=1)
    r = rollout_errors(
        encoder,
        predictor,
        decoder,
        ds,
        delta=8,
        steps=2,
        trajectories=dict(oracle=filled, affine=3 * u + 2, shifted=shifted),
    )
    assert r["frames_ahead"] == [8, 16]
    assert max(r["oracle"]) < 1e-6 and max(r["oracle_raw"]) < 1e-6, r
    assert max(r["affine"]) < 1e-4 < min(r["affine_raw"]), r
    assert min(r["shifted"]) > 1e-3, r
    assert r["arrays"]["oracle"].shape == r["arrays"]["true"].shape == (12, 2, 16, 32)
    # The persistence column compares the context crop with the same true crops.
    assert np.isfinite(r["persistence"]).all() and np.isfinite(r["rollout"]).all()
    with pytest.raises(ValueError, match="shape"):
        rollout_errors(
            encoder, predictor, decoder, ds, delta=8, steps=2, trajectories={"x": u[1:]}
        )
