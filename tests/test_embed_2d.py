"""`pdessl.embed` on 2-D velocity fields (issue 16, item 3): a Dataset with vx, vy
over (time, x, y) with coordinates, or a (vx, vy) pair, gives what `embed_dataset`
gives on the same data, with the same checks as the 1-D path."""

import numpy as np
import pytest
import xarray as xr

import pdessl
from pdessl import datasets
from pdessl.training import ChannelScales, build, export_encoder, load_config


@pytest.fixture(scope="module")
def ns(tmp_path_factory):
    """Three ns-tiny trajectories and an untrained exported ns-tiny encoder (the
    bookkeeping compared here does not depend on training)."""
    root = tmp_path_factory.mktemp("embed2d")
    recipe = datasets.load_recipe("ns-tiny")
    datasets.generate(recipe, "test", root / "test.h5", num_samples=3, progress=False)
    config = load_config("ns-tiny")
    model, state, *_ = build(config)
    ds = datasets.open_dataset(root / "test.h5")
    scales = ChannelScales(
        t=float(ds.dt.mean()) * config.crop_time,
        x=float(ds.dx.mean()) * config.crop_space,
        u=float(np.std([ds.vx.values, ds.vy.values])),
    )
    export_encoder(root / "ns.eqx", model.encoder, state, config, scales)
    return pdessl.load_encoder(root / "ns.eqx"), ds


def _with_coords(ds: xr.Dataset, i: int) -> xr.Dataset:
    """Sample `i` as a physicist would hold it: vx, vy over (time, x, y) with
    coordinates, no per-sample grid variables."""
    s = ds.isel(sample=i)
    dt, dx, dy, t0 = (float(s[k]) for k in ("dt", "dx", "dy", "t0"))
    coords = dict(
        time=t0 + dt * np.arange(ds.sizes["time"]),
        x=dx * np.arange(ds.sizes["x"]),
        y=dy * np.arange(ds.sizes["y"]),
    )
    return xr.Dataset(
        {v: (("time", "x", "y"), s[v].values) for v in ("vx", "vy")}, coords
    )


# The same float32 network on the same crops; the grid from coordinates differs
# from the stored dt, dx by round-off (~1e-16 relative) only, far below float32's
# ~1e-7, so any real difference (a wrong t0, spacing or tile) shows above 1e-5.
RTOL, ATOL = 1e-5, 1e-6


def test_2d_embed_equals_embed_dataset_on_the_same_data(ns):
    enc, ds = ns
    reference = pdessl.embed_dataset(enc, ds).representation.values
    for i in range(ds.sizes["sample"]):
        one = _with_coords(ds, i)
        z = pdessl.embed(enc, one)
        assert z.dims == ("feature",) and z.name == "representation"
        np.testing.assert_allclose(z.values, reference[i], rtol=RTOL, atol=ATOL)
        # The (vx, vy) pair, and the dims in another order, give the same.
        pair = pdessl.embed(enc, (one.vx.transpose("x", "y", "time"), one.vy))
        np.testing.assert_allclose(pair.values, z.values, rtol=RTOL, atol=ATOL)
    # A batch with a sample dimension keeps its sample coordinate.
    batch = xr.concat([_with_coords(ds, i) for i in range(3)], "sample")
    batch = batch.assign_coords(sample=[10, 11, 12])
    z = pdessl.embed(enc, batch, crops="first")
    first = pdessl.embed_dataset(enc, ds, crops="first").representation.values
    assert z.dims == ("sample", "feature") and list(z.sample.values) == [10, 11, 12]
    np.testing.assert_allclose(z.values, first, rtol=RTOL, atol=ATOL)
    # Tiling matters here (8 frames x 32^2 holds 2 x 2 x 2 crops): "first" differs.
    assert not np.allclose(first, reference, rtol=1e-3)


def test_2d_embed_refuses_bad_input_with_named_problems(ns):
    enc, ds = ns
    good = _with_coords(ds, 0)
    with pytest.raises(ValueError, match=r"lacks the velocity field\(s\) \['vy'\]"):
        pdessl.embed(enc, good.drop_vars("vy"))
    with pytest.raises(ValueError, match="expected vx and vy over"):
        pdessl.embed(enc, good.rename(x="lon"))
    with pytest.raises(ValueError, match="pair"):
        pdessl.embed(enc, (good.vx, good.vy, good.vx))
    with pytest.raises(ValueError, match="different coordinates"):
        pdessl.embed(enc, (good.vx, good.vy.assign_coords(x=good.x + 0.5)))
    with pytest.raises(ValueError, match="reads the velocity fields"):
        pdessl.embed(enc, good.vx.values)
    bad = good.copy(deep=True)
    bad.vy.values[2, 3, 4] = np.inf
    with pytest.raises(ValueError, match="NaN or Inf"):
        pdessl.embed(enc, bad)
    coarse = good.assign_coords(y=good.y * 3)
    with pytest.raises(ValueError, match=r"y grid spacing.*factor 2"):
        pdessl.embed(enc, coarse)
    assert pdessl.embed(enc, coarse, check_grid=False).shape == (enc.dim,)
    uneven = good.assign_coords(x=good.x.values + 0.01 * np.arange(32) ** 2)
    with pytest.raises(ValueError, match="'x' is not a uniform"):
        pdessl.embed(enc, uneven)
    with pytest.raises(ValueError, match="fewer than one encoder crop"):
        pdessl.embed(enc, good.isel(x=slice(0, enc.crop_space - 1)))
    with pytest.raises(ValueError, match="no 'time' coordinate"):
        pdessl.embed(enc, good.drop_vars("time"))
    # Without a coordinate, an explicit spacing stands in for it.
    dt = float(ds.dt[0])
    no_time = good.drop_vars("time")
    z = pdessl.embed(enc, no_time, dt=dt, t0=float(ds.t0[0]))
    np.testing.assert_allclose(
        z.values, pdessl.embed(enc, good).values, rtol=RTOL, atol=ATOL
    )
    with pytest.raises(ValueError, match="1-D data only"):
        pdessl.embed(enc, good, resample=True)


def test_a_1d_encoder_given_a_dataset_names_the_field_to_pass(tmp_path):
    config = load_config("tiny")
    model, state, *_ = build(config)
    scales = ChannelScales(t=1.0, x=1.0, u=1.0)
    export_encoder(tmp_path / "b.eqx", model.encoder, state, config, scales)
    enc = pdessl.load_encoder(tmp_path / "b.eqx")
    with pytest.raises(ValueError, match=r"dataset\['u'\]"):
        pdessl.embed(enc, xr.Dataset({"u": (("time", "x"), np.zeros((16, 32)))}))
