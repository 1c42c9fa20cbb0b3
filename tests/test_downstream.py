"""Embedding API and regression probes on tiny data."""

import json

import equinox as eqx
import numpy as np
import pytest
import xarray as xr

import pdessl
from pdessl import datasets, downstream
from pdessl.cli import main
from pdessl.training import build, export_encoder, load_config
from pdessl.training._step import ChannelScales


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A burgers-tiny train/test pair and an (untrained, randomly initialised)
    exported encoder: the API's bookkeeping does not depend on training."""
    root = tmp_path_factory.mktemp("down")
    recipe = datasets.load_recipe("burgers-tiny")
    for split, n in (("train", 24), ("test", 12)):
        datasets.generate(
            recipe, split, root / f"{split}.h5", num_samples=n, progress=False
        )
    config = load_config("tiny")
    model, state, *_ = build(config)
    ds = datasets.open_dataset(root / "train.h5")
    scales = ChannelScales(
        t=float(ds.dt.mean()) * config.crop_time,
        x=float(ds.dx.mean()) * config.crop_space,
        u=float(ds.u.std()),
    )
    export_encoder(root / "encoder.eqx", model.encoder, state, config, scales)
    return root


def _trajectory(ds, i) -> xr.DataArray:
    nt, nx = ds.sizes["time"], ds.sizes["x"]
    return xr.DataArray(
        ds.u.values[i],
        dims=("time", "x"),
        coords={
            "time": ds.t0.values[i] + ds.dt.values[i] * np.arange(nt),
            "x": ds.dx.values[i] * np.arange(nx),
        },
    )


def test_file_embeddings_equal_sample_by_sample_embeddings(files):
    enc = pdessl.load_encoder(files / "encoder.eqx")
    ds = datasets.open_dataset(files / "test.h5")
    whole = pdessl.embed_dataset(enc, ds)
    assert whole.representation.shape == (12, enc.dim)
    assert np.all(np.isfinite(whole.representation.values))
    for i in (0, 5, 11):
        one = pdessl.embed(enc, _trajectory(ds, i))
        assert one.dims == ("feature",)
        # Inference-mode BatchNorm makes each sample's representation independent of
        # the batch; batched and single convolutions may differ by float32
        # reassociation only (~1e-7 relative), hence 1e-5.
        np.testing.assert_allclose(
            one.values, whole.representation.values[i], rtol=1e-5, atol=1e-6
        )
    # The tiles matter: the first crop alone differs from the mean over crops.
    first = pdessl.embed(enc, _trajectory(ds, 0), crops="first")
    assert not np.allclose(first.values, whole.representation.values[0])
    # NumPy input with an explicit grid gives the same as the labelled form.
    arr = pdessl.embed(enc, ds.u.values[:3], dt=ds.dt.values[0], dx=ds.dx.values[0])
    np.testing.assert_allclose(
        arr, whole.representation.values[:3], rtol=1e-5, atol=1e-6
    )
    # Batched over a labelled sample dimension, the sample coordinate is kept.
    batch = xr.concat([_trajectory(ds, i) for i in range(3)], "sample").assign_coords(
        sample=[10, 11, 12]
    )
    z = pdessl.embed(enc, batch)
    assert z.dims == ("sample", "feature") and list(z.sample.values) == [10, 11, 12]


def test_embed_rejects_bad_input_with_named_problems(files):
    enc = pdessl.load_encoder(files / "encoder.eqx")
    ds = datasets.open_dataset(files / "test.h5")
    good = _trajectory(ds, 0)
    with pytest.raises(ValueError, match="expected dims"):
        pdessl.embed(enc, good.rename(x="space"))
    bad = good.copy()
    bad.values[3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN or Inf"):
        pdessl.embed(enc, bad)
    # Values the host checks do not inspect are caught inside the jitted embedding.
    grid = dict(dt=ds.dt.values[0], dx=ds.dx.values[0])
    for extra in (dict(t0=np.nan), dict(length=np.inf)):
        with pytest.raises(eqx.EquinoxRuntimeError, match="non-finite input"):
            pdessl.embed_arrays(enc, ds.u.values[:2], **grid, **extra)
    coarse = good.assign_coords(x=good.x * 3)
    with pytest.raises(ValueError, match=r"grid spacing.*factor 2"):
        pdessl.embed(enc, coarse)
    assert pdessl.embed(enc, coarse, check_grid=False).shape == (enc.dim,)
    uneven = good.assign_coords(
        x=good.x.values + 0.01 * np.arange(good.sizes["x"]) ** 2
    )
    with pytest.raises(ValueError, match="not a uniform"):
        pdessl.embed(enc, uneven)
    with pytest.raises(ValueError, match="fewer than one encoder crop"):
        pdessl.embed(enc, good.isel(time=slice(0, enc.crop_time - 1)))
    with pytest.raises(ValueError, match=r"pass dt=\.\.\. and dx"):
        pdessl.embed(enc, good.values)
    with pytest.raises(ValueError, match="no 'x' coordinate"):
        pdessl.embed(enc, good.drop_vars("x"))
    with pytest.raises(ValueError, match="spacing"):
        pdessl.embed(enc, good, dt=2 * float(ds.dt.values[0]))
    with pytest.raises(FileNotFoundError):
        pdessl.load_encoder(files / "absent.eqx")


def test_linear_probe_recovers_a_linearly_encoded_target(rng):
    n, dim = 200, 16
    features = rng.normal(size=(n, dim))
    mixing = rng.normal(size=(dim, 2))
    targets = features @ mixing + np.array([3.0, -5.0])  # offset: NMSE is relative
    probe = downstream.fit_linear_probe(features[:100], targets[:100])
    # Noise-free and well-posed (100 samples, 16 features): the only error is the
    # cross-validated ridge's shrinkage: measured 1.5e-12 to 6.2e-12 over data seeds
    # 0-7, so 1e-9 leaves a factor 160.
    assert downstream.nmse(probe(features[100:]), targets[100:]) < 1e-9
    # Control: the same probe on features unrelated to the target cannot do better
    # than roughly the target's relative spread (measured over seeds 0-7: 0.72-10.6,
    # so 0.05 leaves a factor 14).
    noise = rng.normal(size=(n, dim))
    probe = downstream.fit_linear_probe(noise[:100], targets[:100])
    assert downstream.nmse(probe(noise[100:]), targets[100:]) > 0.05


def test_mlp_probe_learns_a_nonlinear_target(rng):
    features = rng.uniform(-1, 1, size=(256, 4))
    targets = np.exp(np.sin(2 * features[:, 0]) + features[:, 1] ** 2)  # in (0.4, 7)
    tf = downstream.TargetTransform.fit(targets[:192])
    assert tf.log  # positive and spanning more than a factor LOG_SPAN
    # log, standardise and back in float64: a few ulps (measured <= 3.0e-16 relative
    # over seeds 0-7), so 1e-14 leaves a factor 30.
    np.testing.assert_allclose(
        tf.inverse(tf.forward(targets)).ravel(), targets, rtol=1e-14
    )
    predict = downstream.fit_mlp_probe(
        features[:192], tf.forward(targets[:192]), steps=600, seed=0
    )
    pred = tf.inverse(predict(features[192:])).ravel()
    linear = downstream.fit_linear_probe(features[:192], tf.forward(targets[:192]))
    lin_pred = tf.inverse(linear(features[192:])).ravel()
    # sin(2x) + y^2 is far from linear: the MLP must beat the linear probe clearly.
    # Measured over data seeds 0-7 (PDESSL_TEST_SEED) and MLP seeds 0-1: MLP NMSE
    # 0.021-0.039, linear 0.103-0.146, ratio 0.18-0.28. Bounds at 1.5x the worst:
    # 0.06 (an MLP no better than linear fails it) and a ratio of 0.5 (1.8x).
    mlp_err = downstream.nmse(pred, targets[192:])
    assert mlp_err < 0.5 * downstream.nmse(lin_pred, targets[192:])
    assert mlp_err < 0.06


def test_metrics_follow_the_paper_definitions():
    true = np.array([[1.0, 2.0], [2.0, 0.0]])
    pred = np.array([[1.0, 1.0], [1.0, 1.0]])
    # sample 1: 1/5, sample 2: 2/4 -> mean 0.35; L1: 1/3 and 2/2 -> 2/3.
    assert downstream.nmse(pred, true) == pytest.approx(0.35)
    assert downstream.relative_l1(pred, true) == pytest.approx(2 / 3)


@pytest.mark.slow  # the CLI over the in-process probe and supervised tests: ~13 s
def test_probe_command_reports_ssl_and_supervised(files, tmp_path, capsys):
    out = tmp_path / "r.json"
    args = ["probe", "--encoder", str(files / "encoder.eqx")]
    args += ["--train", str(files / "train.h5"), "--test", str(files / "test.h5")]
    args += ["--target", "nu", "--seeds", "0,1", "--labelled", "16"]
    args += ["--supervised-steps", "6", "--head-steps", "30", "--out", str(out)]
    assert main(args) == 0
    text = capsys.readouterr().out
    for method in ("ssl_linear", "ssl_mlp", "supervised"):
        assert method in text
    report = json.loads(out.read_text())
    assert report["labelled"] == 16 and report["seeds"] == [0, 1]
    assert report["log_target"]  # nu is log-uniform over a decade
    # The command reports what the library computes for these arguments (the
    # library's numbers are checked in test_navier_stokes_embeddings_...), with the
    # mean and sample std over the two seeds.
    library = downstream.run_regression(
        pdessl.load_encoder(files / "encoder.eqx"),
        files / "train.h5",
        files / "test.h5",
        "nu",
        labelled=16,
        seeds=(0, 1),
        heads=("linear",),
        supervised=False,
        progress=lambda *_: None,
    )
    linear = report["results"]["ssl_linear"]["nmse"]
    assert linear["values"] == library["results"]["ssl_linear"]["nmse"]["values"]
    for method in ("ssl_linear", "ssl_mlp", "supervised"):
        nmse = report["results"][method]["nmse"]
        assert len(nmse["values"]) == 2
        assert nmse["mean"] == pytest.approx(np.mean(nmse["values"]), rel=1e-12)
        assert nmse["std"] == pytest.approx(np.std(nmse["values"], ddof=1), rel=1e-9)
    # Different labelled subsets per seed: the linear probe's scores differ.
    assert len(set(report["results"]["ssl_linear"]["nmse"]["values"])) == 2
    assert main([*args[:-2], "--target", "nope"]) == 2
    assert "not a per-sample variable" in capsys.readouterr().err
    assert main([*args[:-2], "--labelled", "2"]) == 2
    assert "labelled must be" in capsys.readouterr().err


def test_embed_command_writes_a_readable_file(files, tmp_path):
    out = tmp_path / "emb.h5"
    assert (
        main(
            [
                "embed",
                str(files / "encoder.eqx"),
                str(files / "test.h5"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    emb = xr.open_dataset(out, engine="h5netcdf")
    enc = pdessl.load_encoder(files / "encoder.eqx")
    ref = pdessl.embed_dataset(enc, files / "test.h5")
    np.testing.assert_array_equal(emb.representation.values, ref.representation.values)
    np.testing.assert_array_equal(emb.nu.values, ref.nu.values)
    emb.close()


def test_supervised_baseline_learns_the_viscosity(files):
    """Trained from scratch on 24 labelled trajectories, the supervised network must
    beat the best constant prediction (the labelled mean in log space) on the test
    split; an untrained network cannot, so this fails if training is broken."""
    enc = pdessl.load_encoder(files / "encoder.eqx")
    train = datasets.open_dataset(files / "train.h5")
    test = datasets.open_dataset(files / "test.h5")
    tf = downstream.TargetTransform.fit(train.nu.values)
    model, state = downstream.train_supervised(
        enc.header,
        train,
        tf.forward(train.nu.values),
        generators=downstream.supervised_generators("burgers", "nu"),
        steps=300,
        batch_size=12,
        seed=0,
    )
    from pdessl.downstream._supervised import supervised_predict

    pred = tf.inverse(supervised_predict(model, state, enc.header, test)).ravel()
    constant = np.full_like(test.nu.values, np.exp(tf.mean[0]))
    # Measured on this fixture (constant NMSE 0.245), NMSE / constant NMSE over
    # training seeds 0-7: 300 steps 0.59-0.68 (used here); 120 steps, as before,
    # 0.70-0.86, too close to the constant for any margin (the old bound 0.7 failed
    # at 0.701 here and 0.71 on another machine); 600 steps overfit the 24 samples
    # (0.69-0.88); 2 steps, i.e. broken training, 0.94-0.98. Bound 0.8: at least a
    # 20 % improvement on the constant, the worst observed (32 %) divided by 1.6.
    assert downstream.nmse(pred, test.nu.values) < 0.8 * downstream.nmse(
        constant, test.nu.values
    )


def test_ic_spectrum_matches_the_fft_of_the_initial_condition(files):
    ds = datasets.open_dataset(files / "test.h5")
    c = downstream.ic_spectrum(ds)
    assert c.shape == (12, 2)  # burgers-tiny draws wavenumbers 1 and 2
    x = np.arange(64) / 64  # one period, in units of L
    for i in range(3):
        a, k, phase = (
            ds[v].values[i] for v in ("ic_amplitude", "ic_wavenumber", "ic_phase")
        )
        u0 = np.sum(a[:, None] * np.sin(2 * np.pi * k[:, None] * x + phase[:, None]), 0)
        # |rfft| / (n/2) is the amplitude of each sine; exact up to round-off.
        np.testing.assert_allclose(c[i], np.abs(np.fft.rfft(u0))[1:3] / 32, rtol=1e-12)


@pytest.mark.slow  # NS generation and 2-D compilation: ~15 s; test_embed_2d and the
# shipped NS encoders cover 2-D embedding, the 1-D tests the probes
def test_navier_stokes_embeddings_and_buoyancy_probe(tmp_path):
    """2-D: frames of (x, y, t, vx, vy) stacked as channels, tiles over t, x, y."""
    recipe = datasets.load_recipe("ns-tiny")
    for split, n in (("train", 8), ("test", 4)):
        datasets.generate(
            recipe, split, tmp_path / f"{split}.h5", num_samples=n, progress=False
        )
    config = load_config("ns-tiny")
    model, state, *_ = build(config)  # 5 channels per frame for "ns"
    ds = datasets.open_dataset(tmp_path / "train.h5")
    scales = ChannelScales(
        t=float(ds.dt.mean()) * config.crop_time,
        x=float(ds.dx.mean()) * config.crop_space,
        u=float(np.std([ds.vx.values, ds.vy.values])),
    )
    export_encoder(tmp_path / "ns.eqx", model.encoder, state, config, scales)
    enc = pdessl.load_encoder(tmp_path / "ns.eqx")
    whole = pdessl.embed_dataset(enc, ds)
    assert whole.representation.shape == (8, enc.dim)
    assert "buoyancy" in whole and np.all(np.isfinite(whole.representation.values))
    # Tile bookkeeping: the mean over tiles equals the mean of per-tile "first"
    # embeddings of the shifted fields (8 frames / 4 = 2 tiles, 32 / 16 = 2 per axis).
    first = []
    for st in (0, 4):
        for sx in (0, 16):
            for sy in (0, 16):
                part = ds.isel(
                    time=slice(st, st + 4), x=slice(sx, sx + 16), y=slice(sy, sy + 16)
                ).assign(t0=ds.t0 + st * ds.dt)
                # The domain lengths come from the full grid: keep them by passing
                # the arrays directly.
                from pdessl.embedding import dataset_arrays, embed_batches

                arrays, crop = dataset_arrays(part, enc.header)
                arrays["Lx"] = ds.dx.values * 32
                arrays["Ly"] = ds.dy.values * 32
                first.append(
                    embed_batches(
                        enc.network, enc.state, enc.scales, arrays, crop, "first", 8
                    )
                )
    np.testing.assert_allclose(
        np.mean(first, axis=0), whole.representation.values, rtol=1e-5, atol=1e-6
    )
    with pytest.raises(ValueError, match="embed_dataset"):
        pdessl.embed(enc, ds.vx.isel(sample=0))
    report = downstream.run_regression(
        enc,
        tmp_path / "train.h5",
        tmp_path / "test.h5",
        "buoyancy",
        seeds=(0,),
        supervised_steps=2,
        head_steps=8,
        progress=lambda *_: None,
    )
    assert set(report["results"]) >= {"ssl_linear", "ssl_mlp", "supervised"}
    # The linear probe row recomputed: all 8 labelled samples (one seed), the
    # embeddings of both files, the target transform, a linear probe, and the NMSE
    # by hand. Same float64 fit on the same float32 features: round-off only.
    test = datasets.open_dataset(tmp_path / "test.h5")
    z_test = pdessl.embed_dataset(enc, test).representation.values
    y_train, y_test = ds.buoyancy.values, test.buoyancy.values
    tf = downstream.TargetTransform.fit(y_train)
    probe = downstream.fit_linear_probe(
        whole.representation.values, tf.forward(y_train)
    )
    pred = tf.inverse(probe(z_test)).ravel()
    expected = np.mean((pred - y_test) ** 2 / y_test**2)
    row = report["results"]["ssl_linear"]["nmse"]
    assert row["values"] == [pytest.approx(expected, rel=1e-9)]
    assert row["mean"] == row["values"][0]
