import logging

import equinox as eqx
import jax
import numpy as np
import optax
import pytest

from pdessl import datasets, pdes
from pdessl.models import Projector, ResNet
from pdessl.training import ChannelScales, SSLModel, train_step


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    path = tmp_path_factory.mktemp("train") / "b.h5"
    datasets.generate(
        datasets.load_recipe("burgers-tiny"),
        "train",
        path,
        num_samples=32,
        batch_size=32,
        progress=False,
    )
    loader = datasets.CropLoader(
        path, batch_size=16, crop_time=16, crop_space=32, seed=0, variables=("L",)
    )
    k1, k2 = jax.random.split(jax.random.key(0))
    (encoder, projector), state = eqx.nn.make_with_state(
        lambda: (
            ResNet(3, widths=(8, 16), depths=(1, 1), imagenet_stem=False, key=k1),
            Projector(16, (32, 32, 32), key=k2),
        )
    )()
    model = SSLModel(encoder, projector)
    optimizer = optax.adamw(3e-3, weight_decay=1e-6)
    opt_state = optimizer.init(eqx.filter(model, eqx.is_inexact_array))
    static = (
        pdes.default_augmentation("burgers", projective=0.0),
        optimizer,
        ChannelScales(t=1.0, x=3.0, u=0.5),
        (25.0, 25.0, 1.0),
    )

    def fresh():
        # The step donates model, state and optimiser state: each test gets copies.
        return jax.tree.map(
            lambda a: a.copy() if eqx.is_array(a) else a, (model, state, opt_state)
        )

    return loader, fresh, static


def test_step_runs_and_does_not_recompile(setup):
    loader, fresh, static = setup
    model, state, opt_state = fresh()
    batches = loader.epoch(0)
    key = jax.random.key(1)
    model, state, opt_state, metrics = train_step(
        (static, next(batches), key, 0), model, state, opt_state
    )
    assert np.isfinite(float(metrics["loss"]))
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("jax")
    logger.addHandler(handler)
    try:
        with jax.log_compiles():
            train_step((static, next(batches), key, 1), model, state, opt_state)
    finally:
        logger.removeHandler(handler)
    assert not [r for r in records if "Compiling" in r.getMessage()]


def test_tiny_run_lowers_the_loss_without_collapse(setup):
    loader, fresh, static = setup
    model, state, opt_state = fresh()
    key = jax.random.key(2)
    losses, stds = [], []
    step = 0
    for epoch in range(20):
        for batch in loader.epoch(epoch):
            model, state, opt_state, m = train_step(
                (static, batch, key, step), model, state, opt_state
            )
            losses.append(float(m["loss"]))
            stds.append(float(m["repr_std"]))
            step += 1
    # 40 steps of AdamW on a tiny network: the VICReg loss must come down clearly,
    # and the representation must not collapse (a collapsed encoder has
    # per-dimension std ~ 0). Measured last-4 / first-4 loss ratio with the init
    # key, loader seed and step key shifted by 0-7: 0.67-0.83 (final std
    # 0.28-0.46); after 20 steps it was 0.75-0.97 (0.887 for this test's seeds,
    # 1.5 % inside the bound). 0.9 asks for a 10 % decrease, the worst observed
    # (17 %) divided by 1.7.
    assert np.mean(losses[-4:]) < 0.9 * np.mean(losses[:4]), losses
    assert stds[-1] > 1e-2, stds


@pytest.mark.slow  # its own compilation: ~15 s
def test_a_few_lars_steps_lower_the_loss(setup):
    # The optimiser as `pretrain` builds it (schedule, decay and trust-ratio masks),
    # over the same 20 steps as above. LARS moves each weight tensor by about
    # lr * 1e-3 of its norm per step, hence a learning rate ~1000x AdamW's (VICReg:
    # 0.2 x batch/256 = 1.6 at batch 2048).
    from pdessl.training import build, load_config

    loader, _, (aug, _, scales, coeffs) = setup
    config = load_config(
        "tiny", optimizer="lars", learning_rate=3.0, steps=20, widths=[8, 16]
    )
    model, state, optimizer, opt_state, _ = build(config)
    static = (aug, optimizer, scales, coeffs)
    key = jax.random.key(2)
    losses = []
    for step in range(20):
        batch = list(loader.epoch(step // 2))[step % 2]
        model, state, opt_state, m = train_step(
            (static, batch, key, step), model, state, opt_state
        )
        losses.append(float(m["loss"]))
    # Measured ratio 0.89 at lr 3 (lr 10 diverged). The two alternating batches
    # differ by ~10 % in loss, hence means over 4 steps and a 5 % margin.
    # Re-measured (issue 13) with the build seed, loader seed and step key shifted
    # by 0-5: 0.88-1.05 at 20 steps (0.938 for the seeds here); 40 steps 0.84-1.01,
    # 80 steps 0.83-1.05, lr 1.5 or 5 no better. At this size no bound has a
    # margin over seeds: a smoke check, kept under `slow`, that fails on some seeds.
    assert np.mean(losses[-4:]) < 0.95 * np.mean(losses[:4]), losses
