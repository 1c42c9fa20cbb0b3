import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pdessl import pdes, symmetries
from pdessl.training._jepa import (
    JEPAPredictor,
    context_target,
    jepa_loss,
    latent_rollout,
    sample_deltas,
    shifted_context_target,
)
from pdessl.training._jepa_step import (
    JEPAStatic,
    export_predictor,
    jepa_views,
    load_predictor,
)
from pdessl.training._step import ChannelScales


def _numpy_jepa(hc, ht, pred, eps=1e-4):
    """Independent NumPy transcription: squared prediction error, VICReg's hinge on
    the unbiased std and off-diagonal covariance of both representations."""
    d = hc.shape[1]
    prediction = np.mean((pred - ht) ** 2)

    def var_cov(z):
        std = np.sqrt(z.var(0, ddof=1) + eps)
        c = np.cov(z, rowvar=False)
        return np.mean(np.maximum(0, 1 - std)), (
            (c**2).sum() - (np.diag(c) ** 2).sum()
        ) / d

    vc, cc = var_cov(hc)
    vt, ct = var_cov(ht)
    variance, covariance = (vc + vt) / 2, cc + ct
    return (
        25 * prediction + 25 * variance + covariance,
        prediction,
        variance,
        covariance,
    )


@pytest.mark.parametrize("scale", [0.2, 1.0, 4.0])
def test_jepa_loss_matches_numpy(rng, scale):
    hc = scale * rng.standard_normal((12, 6))
    ht = hc + 0.3 * rng.standard_normal((12, 6))
    pred = ht + 0.1 * rng.standard_normal((12, 6))
    total, terms = jepa_loss(jnp.asarray(hc), jnp.asarray(ht), jnp.asarray(pred))
    ref = _numpy_jepa(hc, ht, pred)
    # The same float64 formulas in another summation order: round-off only.
    np.testing.assert_allclose(
        [total, terms["prediction"], terms["variance"], terms["covariance"]],
        ref,
        rtol=1e-12,
    )
    # A negative control: the loss does not depend on the context-target distance
    # itself (VICReg's invariance term is excluded), only on the prediction's.
    far = jnp.asarray(ht + 10.0)
    moved, _ = jepa_loss(jnp.asarray(hc), far, jnp.asarray(pred + 10.0))
    np.testing.assert_allclose(moved, total, rtol=1e-10)


def test_jepa_loss_rejects_mismatched_shapes():
    # Under the tests' runtime shape checking (jaxtyping) the mismatch is a TypeError
    # before our own ValueError; either names the shapes.
    with pytest.raises((ValueError, TypeError), match=r"(share one|dim)"):
        jepa_loss(jnp.zeros((4, 3)), jnp.zeros((4, 3)), jnp.zeros((4, 2)))


def test_context_and_target_crops_are_the_right_frames():
    field = jnp.arange(10.0)[:, None] * jnp.ones((1, 5))  # frame i holds i
    context, target = context_target(field, jnp.asarray(3), 4)
    np.testing.assert_array_equal(context[:, 0], [0, 1, 2, 3])
    np.testing.assert_array_equal(target[:, 0], [3, 4, 5, 6])
    deltas = sample_deltas(jax.random.key(0), 2000, 6)
    assert int(deltas.min()) == 1 and int(deltas.max()) == 6
    with pytest.raises(ValueError, match="min_delta"):
        sample_deltas(jax.random.key(0), 3, 0)


def test_shifted_target_is_the_shifted_slice_of_the_window(rng):
    # jepa_max_shift: the loader gives windows crop_space + max_shift wide; the
    # context is the first crop_space points, the target starts `shift` points in.
    field = jnp.asarray(rng.standard_normal((10, 20)), jnp.float32)
    context, target = shifted_context_target(
        field, jnp.asarray(3), jnp.asarray(4), 5, 12
    )
    np.testing.assert_array_equal(context, field[:5, :12])
    np.testing.assert_array_equal(target, field[3:8, 4:16])
    aug = symmetries.Augmentation(pdes.default_generators("burgers"), 2, 1)
    settings = JEPAStatic(
        crop_time=6,
        max_delta=6,
        equivariant=False,
        group_scales=(1.0,) * 4,
        crop_space=12,
        max_shift=4,
    )
    batch = _window_batch(rng, nx=16)
    xc, xt, deltas, eps, shifts = jepa_views(
        aug, ChannelScales(t=0.4, x=6.4, u=1.0), settings, batch, jax.random.key(1)
    )
    assert xc.shape == xt.shape == (6, 3, 6, 12) and eps is None
    assert shifts.shape == (6,) and 0 <= int(shifts.min()) <= int(shifts.max()) <= 4
    for i in range(6):  # the field channel (2) is the slice the offsets name
        d, s = int(deltas[i]), int(shifts[i])
        np.testing.assert_allclose(xt[i, 2], batch["u"][i, d : d + 6, s : s + 12])
        np.testing.assert_allclose(xc[i, 2], batch["u"][i, :6, :12])
    # The predictor takes the shift as one more input; a plain one refuses it.
    shifted = JEPAPredictor(4, (8,), max_delta=6, max_shift=4, key=jax.random.key(0))
    h = jnp.ones(4, jnp.float32)
    two, four, zero = (jnp.asarray(k) for k in (2, 4, 0))
    assert not np.allclose(shifted(h, two, shift=four), shifted(h, two, shift=zero))
    np.testing.assert_array_equal(shifted(h, two), shifted(h, two, shift=zero))
    plain = JEPAPredictor(4, (8,), max_delta=6, key=jax.random.key(0))
    with pytest.raises(ValueError, match="no spatial shift"):
        plain(h, two, shift=four)


def _window_batch(rng, n=6, frames=12, nx=16):
    return {
        "u": jnp.asarray(rng.standard_normal((n, frames, nx)), jnp.float32),
        "t0": jnp.asarray(rng.uniform(0, 1, n)),
        "dt": jnp.full((n,), 0.05),
        "dx": jnp.full((n,), 0.4),
        "L": jnp.full((n,), 6.4),
    }


@pytest.mark.parametrize("equivariant", [False, True])
def test_the_predictor_sees_only_the_context(rng, equivariant):
    aug = symmetries.Augmentation(pdes.default_generators("burgers"), 2, 1)
    scales = ChannelScales(t=0.4, x=6.4, u=1.0)
    settings = JEPAStatic(
        crop_time=6, max_delta=6, equivariant=equivariant, group_scales=(1.0,) * 4
    )
    batch = _window_batch(rng)
    changed = dict(batch, u=batch["u"].at[:, 6:].add(5.0))  # only frames >= crop_time
    key = jax.random.key(1)
    xc, xt, deltas, eps, shifts = jepa_views(aug, scales, settings, batch, key)
    xc2, xt2, deltas2, eps2, _ = jepa_views(aug, scales, settings, changed, key)
    assert shifts is None  # max_shift 0: the same spatial window
    assert xc.shape == xt.shape == (6, 3, 6, 16)
    # The change reaches the targets (so the check below can fail) ...
    assert float(jnp.max(jnp.abs(xt2 - xt))) > 1.0
    # ... but the context views, offsets, group elements and predictions are equal.
    np.testing.assert_array_equal(xc2, xc)
    np.testing.assert_array_equal(deltas2, deltas)
    from pdessl.models import ResNet

    encoder, state = eqx.nn.make_with_state(ResNet)(
        3, widths=(8,), depths=(1,), imagenet_stem=False, key=jax.random.key(2)
    )
    encoder = eqx.nn.inference_mode(encoder)
    predictor = JEPAPredictor(
        8, (16,), max_delta=6, group_dim=4 if equivariant else 0, key=jax.random.key(3)
    )

    def predict(x, eps):
        h = jax.vmap(lambda v: encoder(v, state)[0])(x)
        return jax.vmap(predictor, in_axes=(0, 0, None if eps is None else 0))(
            h, deltas, eps
        )

    np.testing.assert_array_equal(predict(xc2, eps2), predict(xc, eps))
    if equivariant:
        assert eps.shape == (6, 4) and float(jnp.max(jnp.abs(eps))) > 0
    else:
        assert eps is None


def test_predictor_checks_its_group_input():
    plain = JEPAPredictor(4, (8,), max_delta=3, key=jax.random.key(0))
    equi = JEPAPredictor(4, (8,), max_delta=3, group_dim=2, key=jax.random.key(0))
    h = jnp.ones(4, jnp.float32)
    with pytest.raises(ValueError, match="no group element"):
        plain(h, jnp.asarray(1), jnp.zeros(2))
    with pytest.raises(ValueError, match="equivariant"):
        equi(h, jnp.asarray(1))


def test_latent_rollout_is_the_predictor_repeated(tmp_path):
    predictor = JEPAPredictor(5, (7,), max_delta=4, key=jax.random.key(0))
    h = jnp.linspace(-1, 1, 5, dtype=jnp.float32)
    rollout = latent_rollout(predictor, h, 2, 3)
    expected, hs = h, []
    for _ in range(3):
        expected = predictor(expected, jnp.asarray(2))
        hs.append(expected)
    # scan vs a Python loop of the same float32 operations: round-off only.
    np.testing.assert_allclose(rollout, jnp.stack(hs), rtol=1e-6, atol=1e-7)

    class _Config:
        crop_time = 8

    path = export_predictor(tmp_path / "predictor.eqx", predictor, _Config())
    loaded, header = load_predictor(path)
    assert header["max_delta"] == 4
    np.testing.assert_array_equal(latent_rollout(loaded, h, 2, 3), rollout)
    (tmp_path / "bad.eqx").write_bytes(b"not a header\n")
    with pytest.raises(ValueError, match="not a pdessl JEPA predictor"):
        load_predictor(tmp_path / "bad.eqx")
