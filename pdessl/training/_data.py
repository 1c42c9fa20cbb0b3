"""Feeding pretraining: the training file (generated when not given), the
data-parallel placement of batches, and the batch stream resumed at a step."""

from pathlib import Path

import equinox as eqx
import jax
import numpy as np

from pdessl import datasets


def training_file(config, workdir: Path, data) -> Path:
    """`data`, or the `data_recipe` training split generated under `workdir/data`
    by process 0 (the others wait for it)."""
    if data is not None:
        return Path(data)
    # The recipe's stem only: a path in data_recipe never writes outside workdir.
    data = workdir / "data" / f"{Path(config.data_recipe).stem}-train.h5"
    if jax.process_index() == 0 and not data.exists():
        datasets.generate(
            datasets.load_recipe(config.data_recipe), "train", data, progress=False
        )
    if jax.process_count() > 1:  # the others wait for process 0's file
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices("pdessl: training data generated")
    return data


def data_parallel(local_batch: int):
    """A `data` mesh axis over all devices of all processes. Each process holds its
    slice of the global batch; `make_array_from_process_local_data` assembles the
    global array, and the jitted step runs SPMD (XLA all-reduces the gradients; the
    BatchNorm and VICReg statistics are over the global batch). Parameters are
    replicated."""
    devices = jax.devices()
    if local_batch % jax.local_device_count():
        raise ValueError(
            f"the per-process batch ({local_batch}) must divide among the "
            f"{jax.local_device_count()} local devices."
        )
    mesh = jax.sharding.Mesh(np.array(devices), ("data",))
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("data"))
    replicated = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())

    def put(batch):
        return {
            k: jax.make_array_from_process_local_data(sharding, np.asarray(v))
            for k, v in batch.items()
        }

    def replicate(tree):
        def one(a):
            a = np.asarray(a)
            return jax.make_array_from_callback(a.shape, replicated, lambda idx: a[idx])

        arrays, rest = eqx.partition(tree, eqx.is_array)
        return eqx.combine(jax.tree.map(one, arrays), rest)

    return put, replicate


def batches_from(loader, start_step):
    """Batches from step `start_step` on: epoch = step // len, index = step % len."""
    per_epoch = len(loader)
    epoch, skip = divmod(start_step, per_epoch)
    while True:
        for i, batch in enumerate(loader.epoch(epoch)):
            if i >= skip:
                yield batch
        epoch, skip = epoch + 1, 0
