import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pdessl.vicreg import vicreg_loss

# float32 networks on float64 data: no silent promotion.
pytestmark = pytest.mark.strict_dtypes


def _numpy_vicreg(x, y, eps=1e-4):
    """Independent NumPy transcription of the formulas of Bardes et al. (2022)."""
    n, d = x.shape
    inv = np.mean((x - y) ** 2)
    xc, yc = x - x.mean(0), y - y.mean(0)
    std_x = np.sqrt(x.var(0, ddof=1) + eps)
    std_y = np.sqrt(y.var(0, ddof=1) + eps)
    var = np.mean(np.maximum(0, 1 - std_x)) / 2 + np.mean(np.maximum(0, 1 - std_y)) / 2
    cov_x = xc.T @ xc / (n - 1)
    cov_y = yc.T @ yc / (n - 1)

    def off(c):
        return (c**2).sum() - (np.diag(c) ** 2).sum()

    cov = off(cov_x) / d + off(cov_y) / d
    return 25 * inv + 25 * var + cov, inv, var, cov


@pytest.mark.parametrize("scale", [0.3, 1.0, 3.0])
def test_matches_numpy(rng, scale):
    x = scale * rng.standard_normal((16, 8))
    y = x + 0.1 * rng.standard_normal((16, 8))
    total, terms = vicreg_loss(jnp.asarray(x), jnp.asarray(y))
    ref = _numpy_vicreg(x, y)
    # Same float64 formulas, different summation order: round-off only.
    np.testing.assert_allclose(
        [total, terms["invariance"], terms["variance"], terms["covariance"]],
        ref,
        rtol=1e-12,
    )
    if scale == 3.0:
        assert terms["variance"] == 0.0  # every std above 1: hinge inactive


def test_sharded_batch_gives_the_global_loss(rng):
    # Four CPU devices (conftest): the batch split over them, statistics still global.
    x = jnp.asarray(rng.standard_normal((16, 6)))
    y = jnp.asarray(rng.standard_normal((16, 6)))
    mesh = jax.make_mesh((4,), ("data",))
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("data"))
    xs, ys = jax.device_put(x, sharding), jax.device_put(y, sharding)
    total = jax.jit(lambda a, b: vicreg_loss(a, b)[0])(xs, ys)
    np.testing.assert_allclose(
        total, _numpy_vicreg(np.asarray(x), np.asarray(y))[0], rtol=1e-12
    )
    # And explicitly with shard_map + axis_name.
    from jax.sharding import PartitionSpec as P

    smap = jax.shard_map(
        lambda a, b: vicreg_loss(a, b, axis_name="data")[0],
        mesh=mesh,
        in_specs=(P("data"), P("data")),
        out_specs=P(),
    )
    np.testing.assert_allclose(smap(xs, ys), total, rtol=1e-12)


def test_collapse_is_penalised(rng):
    z = jnp.ones((8, 4))
    _, terms = vicreg_loss(z, z)
    assert terms["invariance"] == 0 and terms["covariance"] == 0
    assert float(terms["variance"]) == pytest.approx(1 - np.sqrt(1e-4))


def test_bad_shapes():
    # Under the tests' runtime shape checking (jaxtyping) the mismatch is a TypeError
    # before our own ValueError; either names the shapes.
    with pytest.raises((ValueError, TypeError), match=r"(one shape|dim)"):
        vicreg_loss(jnp.zeros((4, 3)), jnp.zeros((4, 2)))
    with pytest.raises(ValueError, match="at least 2"):
        vicreg_loss(jnp.zeros((1, 3)), jnp.zeros((1, 3)))
