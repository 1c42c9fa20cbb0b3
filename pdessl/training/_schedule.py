"""The learning-rate schedule shared by pretraining and the downstream trainers."""

import optax


def warmup_cosine(learning_rate: float, warmup_steps: int, steps: int):
    """Linear warmup from 0 over `warmup_steps` (at most `steps - 1`), then cosine
    decay to 0 at `steps`."""
    return optax.warmup_cosine_decay_schedule(
        0.0, learning_rate, min(warmup_steps, steps - 1), steps
    )
