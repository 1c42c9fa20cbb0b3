"""Running a per-sample Equinox module with BatchNorm over a batch."""

import jax


def batched(module, state, x):
    """`module(x_i, state)` over the leading axis of `x` with the batch statistics
    shared: BatchNorm layers name the mapped axis "batch" (`axis_name`), and the
    state, not mapped, comes back once. Returns `(outputs, state)`."""
    return jax.vmap(module, axis_name="batch", in_axes=(0, None), out_axes=(0, None))(
        x, state
    )
