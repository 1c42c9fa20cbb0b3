import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pdessl.models import Projector, ResNet

# float32 networks on float64 data: no silent promotion.
pytestmark = pytest.mark.strict_dtypes


def _is_inexact_array_or_shape(x):
    if isinstance(x, jax.ShapeDtypeStruct):  # from eqx.filter_eval_shape
        return jnp.issubdtype(x.dtype, jnp.inexact)
    return eqx.is_inexact_array(x)


def _n_params(model):
    # Trainable arrays only: BatchNorm's running statistics (initial values held in
    # its StateIndex) are state, not parameters.
    params = eqx.filter(
        model,
        _is_inexact_array_or_shape,
        is_leaf=lambda x: isinstance(x, eqx.nn.StateIndex),
    )
    return sum(x.size for x in jax.tree.leaves(params))


def test_resnet18_matches_torchvision_parameter_count():
    # torchvision.models.resnet18: 11,689,512 parameters, of which the final fc
    # (512 x 1000 + 1000) is 513,000: the backbone has 11,176,512. Same layers here.
    # Shapes only: the count does not depend on the values, and initialising 11 M
    # parameters eagerly costs seconds.
    model = eqx.filter_eval_shape(ResNet, 3, key=jax.random.key(0))
    assert _n_params(model) == 11_176_512
    assert model.out_dim == 512


def _batched(model, state, x, inference=False):
    if inference:
        model = eqx.nn.inference_mode(model)
    return jax.vmap(model, axis_name="batch", in_axes=(0, None), out_axes=(0, None))(
        x, state
    )


def test_forward_shapes_and_batchnorm_state():
    model, state = eqx.nn.make_with_state(ResNet)(
        3, widths=(8, 16), depths=(1, 1), imagenet_stem=False, key=jax.random.key(0)
    )
    x = jax.random.normal(jax.random.key(1), (6, 3, 16, 32), dtype=jnp.float32)
    h, new_state = eqx.filter_jit(_batched)(model, state, x)
    assert h.shape == (6, 16)
    before = jax.tree.leaves(state)
    after = jax.tree.leaves(new_state)
    assert any(not np.allclose(a, b) for a, b in zip(before, after, strict=True))
    # Inference mode: running statistics, so each sample's embedding does not depend
    # on the rest of the batch.
    # Jitted: compiling the network is cheaper than dispatching it op by op.
    h_all, _ = eqx.filter_jit(_batched)(model, new_state, x, inference=True)
    h_one, _ = eqx.filter_jit(_batched)(model, new_state, x[2:3], inference=True)
    # float32 network: batch-of-one vs batch changes only the summation order.
    np.testing.assert_allclose(h_all[2], h_one[0], rtol=1e-5, atol=1e-6)


def test_group_norm_variant_has_no_batch_coupling():
    model, state = eqx.nn.make_with_state(ResNet)(
        5, widths=(8, 16), depths=(1, 1), group_norm=True, key=jax.random.key(0)
    )
    x = jax.random.normal(jax.random.key(2), (4, 5, 32, 32), dtype=jnp.float32)
    # Jitted: compiling the network is cheaper than dispatching it op by op.
    h_all, _ = eqx.filter_jit(_batched)(model, state, x)
    h_one, _ = eqx.filter_jit(_batched)(model, state, x[1:2])
    # float32 network: batch-of-one vs batch changes only the summation order.
    np.testing.assert_allclose(h_all[1], h_one[0], rtol=1e-5, atol=1e-6)


def test_projector_layout():
    proj, state = eqx.nn.make_with_state(Projector)(
        16, (32, 32, 8), key=jax.random.key(0)
    )
    assert [lin.use_bias for lin in proj.linears] == [True, True, False]
    x = jax.random.normal(jax.random.key(1), (4, 16), dtype=jnp.float32)
    z, _ = _batched(proj, state, x)
    assert z.dtype == jnp.float32
    assert z.shape == (4, 8)
    # By hand in float64: (Linear, BatchNorm over the batch with biased variance and
    # eps 1e-5, initial scale 1 and shift 0, ReLU) twice, then Linear without bias.
    h = np.asarray(x, dtype=np.float64)
    for lin in proj.linears[:-1]:
        h = h @ np.asarray(lin.weight, np.float64).T + np.asarray(lin.bias)
        h = (h - h.mean(0)) / np.sqrt(h.var(0) + 1e-5)
        h = np.maximum(h, 0.0)
    h = h @ np.asarray(proj.linears[-1].weight, np.float64).T
    # float32 forward pass of O(1) values through 16- and 32-wide sums: ~1e-6.
    np.testing.assert_allclose(z, h, rtol=1e-4, atol=1e-5)


def test_bad_configuration():
    with pytest.raises(ValueError, match="must match"):
        ResNet(3, widths=(8, 16), depths=(1,), key=jax.random.key(0))
    with pytest.raises(ValueError, match="in_channels"):
        ResNet(0, key=jax.random.key(0))
