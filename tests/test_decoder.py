import jax
import numpy as np
import pytest

import pdessl
from pdessl import datasets
from pdessl.downstream._decoder import fit_decoder, rollout_crops, rollout_errors
from pdessl.training import export_untrained, load_config
from pdessl.training._jepa import JEPAPredictor


@pytest.fixture(scope="module")
def encoder_and_data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("decoder")
    data = folder / "b.h5"
    datasets.generate(
        datasets.load_recipe("burgers-tiny"),
        "train",
        data,
        num_samples=32,
        batch_size=32,
        progress=False,
    )
    config = load_config("tiny", field_scaling="view")
    export_untrained(config, data, folder / "enc.eqx", samples=32)
    return pdessl.load_encoder(folder / "enc.eqx"), data


def test_decoded_rollouts_are_measured_against_the_true_crops(encoder_and_data):
    encoder, data = encoder_and_data
    ds = datasets.open_dataset(data)
    views = rollout_crops(encoder, ds, 8, 2)
    assert views.shape == (3, 32, 3, 16, 32)
    # Crop k starts k * 8 frames later: its first frame is frame 8 k of the data.
    # (Per-view standardisation: compare up to the crop's own mean and std.)
    u = ds.u.values[0, 8, :32]
    expected = (u - ds.u.values[0, 8:24, :32].mean()) / ds.u.values[0, 8:24, :32].std()
    np.testing.assert_allclose(views[1, 0, 2, 0], expected, rtol=1e-3, atol=1e-3)

    decoder = fit_decoder(encoder, ds, epochs=4, steps=400, progress=lambda *_: None)
    predictor = JEPAPredictor(encoder.dim, (16,), max_delta=8, key=jax.random.key(0))
    r = rollout_errors(encoder, predictor, decoder, ds, delta=8, steps=2)
    assert r["frames_ahead"] == [8, 16]
    assert r["arrays"]["decoded"].shape == (32, 2, 16, 32)
    # Standardised crops: predicting zeros has NMSE 1. A decoder fitted on these
    # very crops must do better (measured 0.065 from this untrained encoder); 0.8
    # leaves a margin while still failing for a decoder that learnt nothing.
    assert max(r["decoder_floor"]) < 0.8, r
    assert all(np.isfinite(r["rollout"])) and all(np.isfinite(r["persistence"]))
    with pytest.raises(ValueError, match="need 40 frames"):
        rollout_crops(encoder, ds, 8, 3)
