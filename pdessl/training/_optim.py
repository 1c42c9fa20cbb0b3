"""The pretraining optimiser: LARS (the paper's) or AdamW, with the warmup-cosine
schedule; weight decay on weight matrices and kernels only."""

import jax
import optax

from ._schedule import warmup_cosine


def _decay_mask(params):
    # Weight decay on weight matrices and kernels only, not on biases or norm scales.
    return jax.tree.map(lambda a: a.ndim >= 2, params)


def build_optimizer(config):
    """`(optimizer, schedule)` for a `PretrainConfig`."""
    schedule = warmup_cosine(config.learning_rate, config.warmup_steps, config.steps)
    if config.optimizer == "lars":
        # LARS as in VICReg (You et al. 2017): SGD with momentum 0.9 whose update of
        # each weight tensor is rescaled by 1e-3 ||w|| / ||g + wd w||; biases and norm
        # parameters get neither weight decay nor that rescaling.
        optimizer = optax.lars(
            schedule,
            weight_decay=config.weight_decay,
            weight_decay_mask=_decay_mask,
            trust_ratio_mask=_decay_mask,
            momentum=0.9,
        )
    else:
        optimizer = optax.adamw(
            schedule, weight_decay=config.weight_decay, mask=_decay_mask
        )
    return optimizer, schedule
