"""The batch-level channels-last passes (`encode_batch`, `project_batch`) against the
per-sample modules vmapped over a named batch axis, which define the model."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pdessl.models import Projector, ResNet, encode_batch, project_batch

# float32 networks: the two paths sum the same products in another order (batched
# vs per-sample convolutions, one batch mean vs a mean of per-sample means). Over
# ~20 layers with BatchNorm the outputs (order 1) then differ by a few 1e-6;
# 1e-4 leaves a margin of ~10x above the largest difference seen (6e-6) while a
# change of semantics (below) moves them by 1e-1 or more.
RTOL = ATOL = 1e-4


def _vmapped(module, x, state):
    return jax.vmap(module, axis_name="batch", in_axes=(0, None), out_axes=(0, None))(
        x, state
    )


def _copy(state):
    # A fresh State object: eqx refuses to read one that was already updated.
    leaves, treedef = jax.tree.flatten(state)
    return jax.tree.unflatten(treedef, leaves)


CASES = {
    "resnet18": (dict(), (3, 32, 64)),
    "cpu-encoder": (
        dict(widths=(16, 32, 64), depths=(1, 1, 1), imagenet_stem=False),
        (3, 16, 32),
    ),
    "group-norm": (dict(widths=(8, 16), depths=(1, 1), group_norm=True), (5, 16, 16)),
}


# ResNet-18 forward: slow (CI); the small encoders take the same code path, and the
# gradient test below runs ResNet-18 with its stem max-pool.
@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, marks=pytest.mark.slow) if c == "resnet18" else c
        for c in sorted(CASES)
    ],
)
def test_encoder_matches_vmapped_reference(case, rng):
    kwargs, shape = CASES[case]
    encoder, state = eqx.nn.make_with_state(ResNet)(
        shape[0], key=jax.random.key(0), **kwargs
    )
    x = jnp.asarray(rng.standard_normal((4, *shape)), jnp.float32)
    ref, ref_state = eqx.filter_jit(_vmapped)(encoder, x, _copy(state))
    out, new_state = eqx.filter_jit(encode_batch)(encoder, x, _copy(state))
    assert out.shape == ref.shape == (4, encoder.out_dim)
    assert out.dtype == ref.dtype == jnp.float32
    np.testing.assert_allclose(out, ref, rtol=RTOL, atol=ATOL)
    # Running statistics and batch counters (none for GroupNorm).
    for a, b in zip(
        jax.tree.leaves(new_state), jax.tree.leaves(ref_state), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)

    # Inference mode: running statistics, identical parameters and state.
    frozen = eqx.nn.inference_mode(encoder)
    ref_inf, _ = eqx.filter_jit(_vmapped)(frozen, x, _copy(ref_state))
    out_inf, _ = eqx.filter_jit(encode_batch)(frozen, x, _copy(ref_state))
    np.testing.assert_allclose(out_inf, ref_inf, rtol=RTOL, atol=ATOL)
    if case != "group-norm":
        # Negative control: batch vs running statistics move the output far
        # beyond the tolerance, so the comparisons above can tell them apart.
        assert np.max(np.abs(out_inf - out)) > 100 * ATOL


@pytest.mark.slow  # ResNet-18 gradients twice: ~10-15 s; the batched passes are opt-in
def test_encoder_gradients_match_vmapped_reference(rng):
    # ResNet-18 with its stem max-pool, whose gradient the two paths compute
    # differently (select-and-scatter vs maximum of slices); random inputs have no
    # positive ties inside a pooling window.
    encoder, state = eqx.nn.make_with_state(ResNet)(3, key=jax.random.key(1))
    x = jnp.asarray(rng.standard_normal((4, 3, 32, 64)), jnp.float32)
    target = jnp.asarray(rng.standard_normal((4, 512)), jnp.float32)

    def loss(apply):
        def f(model):
            h, _ = apply(model, x, _copy(state))
            return jnp.sum((h - target) ** 2)

        return eqx.filter_jit(eqx.filter_grad(f))(encoder)

    ref = jax.tree.leaves(loss(_vmapped))
    new = jax.tree.leaves(loss(encode_batch))
    assert len(ref) == len(new) > 0
    for a, b in zip(new, ref, strict=True):
        # Relative to each parameter's largest gradient entry: round-off of float32
        # sums over up to 4 x 16 x 32 products per entry.
        scale = float(np.max(np.abs(b)))
        np.testing.assert_allclose(a, b, rtol=0, atol=RTOL * scale)


def test_projector_matches_vmapped_reference(rng):
    projector, state = eqx.nn.make_with_state(Projector)(
        16, (32, 32, 8), key=jax.random.key(0)
    )
    h = jnp.asarray(rng.standard_normal((6, 16)), jnp.float32)
    ref, ref_state = _vmapped(projector, h, _copy(state))
    out, new_state = project_batch(projector, h, _copy(state))
    np.testing.assert_allclose(out, ref, rtol=RTOL, atol=ATOL)
    for a, b in zip(
        jax.tree.leaves(new_state), jax.tree.leaves(ref_state), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def test_bad_input_shapes():
    encoder, state = eqx.nn.make_with_state(ResNet)(
        3, widths=(8,), depths=(1,), imagenet_stem=False, key=jax.random.key(0)
    )
    # Under the tests' runtime shape checking (jaxtyping) a wrong rank is a
    # TypeError naming the annotation; without it, our ValueError.
    with pytest.raises(
        (ValueError, TypeError), match=r"(batch of \(c, h, w\)|batch c h w)"
    ):
        encode_batch(encoder, jnp.zeros((3, 8, 8), jnp.float32), state)
    projector, pstate = eqx.nn.make_with_state(Projector)(
        8, (8, 8), key=jax.random.key(0)
    )
    with pytest.raises((ValueError, TypeError), match=r"(\(batch, dim\)|batch dim)"):
        project_batch(projector, jnp.zeros((8,), jnp.float32), pstate)


def test_batch_norm_gradient_matches_autodiff(rng):
    # The hand-written BatchNorm VJP (models/_batched.py) against JAX's autodiff of
    # the same forward, with non-zero cotangents on all three outputs (y and the
    # statistics), in float64 so that only round-off separates them.
    from pdessl.models._batched import _normalise, _normalise_fwd

    x = jnp.asarray(rng.standard_normal((3, 5, 4, 6)) * 2 + 1)
    weight = jnp.asarray(rng.standard_normal(6))
    bias = jnp.asarray(rng.standard_normal(6))
    cotangents = (
        jnp.asarray(rng.standard_normal(x.shape)),
        jnp.asarray(rng.standard_normal(6)),
        jnp.asarray(rng.standard_normal(6)),
    )

    def plain(x, w, b):
        return _normalise_fwd(x, w, b, 1e-5)[0]

    out, vjp = jax.vjp(lambda *a: _normalise(*a, 1e-5), x, weight, bias)
    ref_out, ref_vjp = jax.vjp(plain, x, weight, bias)
    for a, b in zip(out, ref_out, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(vjp(cotangents), ref_vjp(cotangents), strict=True):
        # float64, 60 values per channel: round-off well below 1e-10.
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
    # Negative control: dropping the statistics' cotangents changes dx.
    no_stats = (cotangents[0], jnp.zeros(6), jnp.zeros(6))
    assert np.max(np.abs(vjp(no_stats)[0] - ref_vjp(cotangents)[0])) > 1e-3
