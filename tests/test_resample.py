"""`pdessl.resample` against analytic fields (exactness in space, measured order in
time), and embedding with `resample=True` against embedding native data."""

import h5py
import jax
import numpy as np
import pytest

import pdessl
from pdessl import datasets, solvers
from pdessl.training import build, export_encoder, load_config
from pdessl.training._step import ChannelScales

DT, NX, LENGTH = 0.04, 64, 2 * np.pi  # the quick start's Burgers grid


def _wave(t, x):
    """A smooth analytic field, band-limited in x (modes 1 and 3)."""
    t = np.asarray(t)[:, None]
    return np.exp(-0.3 * t) * np.sin(x - 0.7 * t) + 0.4 * np.cos(3 * x + 1.1 * t)


@pytest.mark.parametrize("n_new", [32, 48, 128, 256])
def test_space_resampling_is_exact_for_band_limited_fields(n_new):
    t = np.arange(6) * 0.1
    u = _wave(t, np.arange(64) * LENGTH / 64)
    r = pdessl.resample(u, dt=0.1, dx=LENGTH / 64, new_dt=0.1, new_dx=LENGTH / n_new)
    assert r.u.shape == (6, n_new) and r.time_error == 0.0
    # modes 1 and 3 are held exactly by every grid here: round-off only.
    np.testing.assert_allclose(r.u, _wave(t, np.arange(n_new) * r.dx), atol=1e-13)


def test_time_interpolation_converges_at_its_order_and_states_its_error():
    x = np.arange(32) * LENGTH / 32
    errors, steps = [], [0.4, 0.2, 0.1]
    for dt in steps:
        t = np.arange(round(8.0 / dt) + 1) * dt
        r = pdessl.resample(
            _wave(t, x), dt=dt, dx=x[1], new_dt=0.03, new_dx=x[1], tolerance=1.0
        )
        exact = _wave(np.arange(len(r.u)) * 0.03, x)
        err = np.linalg.norm(r.u - exact) / np.linalg.norm(exact)
        # the stated error (measured at twice the step) bounds the real one
        assert err <= r.time_error
        errors.append(err)
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    print("errors", errors, "orders", orders)
    # degree-5 Lagrange: O(dt^6); 0.5 leaves room for pre-asymptotic behaviour.
    assert np.all(orders > 5.5)


def test_too_coarse_time_steps_are_refused():
    x = np.arange(32) * LENGTH / 32
    t = np.arange(12) * 1.5  # the field turns over in ~1 time unit
    with pytest.raises(pdessl.ResampleError, match="too coarse in time"):
        pdessl.resample(_wave(t, x), dt=1.5, dx=x[1], new_dt=DT, new_dx=x[1])


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    """An untrained exported encoder on the quick start's grid (dt 0.04, dx 2pi/64):
    resampling's bookkeeping does not depend on training."""
    config = load_config("tiny")
    model, state, *_ = build(config)
    scales = ChannelScales(
        t=DT * config.crop_time, x=LENGTH / NX * config.crop_space, u=0.3
    )
    path = tmp_path_factory.mktemp("enc") / "encoder.eqx"
    export_encoder(path, model.encoder, state, config, scales)
    return pdessl.load_encoder(path)


def _burgers(nx, dt, nt, seeds=(0, 1)):
    """Exact Burgers trajectories (Cole–Hopf of a heat solution, nu 0.05)."""
    x = np.arange(nx) * LENGTH / nx
    out = []
    for s in seeds:
        heat = solvers.sample_heat_cole_hopf(jax.random.key(s), 0.05, LENGTH)
        out.append([np.asarray(heat.burgers(x, i * dt)) for i in range(nt)])
    return np.asarray(out)


def test_embed_with_resampling_equals_embed_on_native_data(encoder):
    native = _burgers(NX, DT, 40)
    fine = _burgers(256, 0.1, 16)  # LPSDA's Burgers grid: dx 2pi/256, dt ~0.1
    z_native = pdessl.embed(encoder, native, dt=DT, dx=LENGTH / NX)
    z = pdessl.embed(encoder, fine, dt=0.1, dx=LENGTH / 256, resample=True)
    # 1.5 / 0.04 -> 38 frames; the representations compare on the shared tiles.
    # The network runs in float32 (1e-7) and the inputs differ by the time
    # interpolation error (~1e-6): 1e-4 relative leaves a margin.
    rel = np.linalg.norm(z - z_native) / np.linalg.norm(z_native)
    print("relative difference", rel)
    assert rel < 1e-4


def test_all_grid_mismatches_are_reported_at_once(encoder):
    u = _burgers(32, 0.2, 20)  # on a 4x longer domain: dx 4x and dt 5x the encoder's
    with pytest.raises(ValueError) as info:
        pdessl.embed(encoder, u, dt=0.2, dx=4 * LENGTH / 32)
    message = str(info.value)
    assert "time step" in message and "grid spacing" in message
    assert "--resample" in message and "--no-check-grid" in message
    z = pdessl.embed(encoder, u, dt=0.2, dx=4 * LENGTH / 32, check_grid=False)
    assert z.shape == (2, encoder.dim)


def test_resampling_says_when_the_data_cannot_make_a_crop(encoder):
    short = _burgers(16, 0.01, 20)  # spans 0.19 < 15 x 0.04; domain 2pi/16*16 ok
    with pytest.raises(ValueError, match="shorter than one encoder crop") as info:
        pdessl.embed(encoder, short, dt=0.01, dx=0.1, resample=True)
    assert "time units" in str(info.value) and "domain is 1.6" in str(info.value)


def test_cli_embed_resample_on_an_imported_lpsda_burgers_file(encoder, tmp_path):
    from test_import_physics import _heat, _write_lpsda

    from pdessl.cli import main

    src = _write_lpsda(tmp_path / "Heat_train.h5", *_heat(nx=256, nt=20))
    imported = tmp_path / "burgers.h5"
    assert (
        main(["import", "lpsda", str(src), "--pde", "burgers", "--out", str(imported)])
        == 0
    )
    out = tmp_path / "emb.h5"
    args = ["embed", encoder.path, str(imported), "--out", str(out)]
    assert main(args) == 2  # off-grid: refused
    assert main([*args, "--resample"]) == 0
    with h5py.File(out) as f:
        assert "onto the encoder's grid" in f.attrs["resampled"]
    assert datasets.open_dataset(imported).sizes["x"] == 256
