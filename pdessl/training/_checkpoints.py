"""Orbax checkpoints of a pretraining run: the arrays of (model, state, optimiser
state) and the configuration they were trained with, restored on resume."""

import dataclasses
import json
from pathlib import Path

import equinox as eqx
import jax


class Checkpoints:
    """An `orbax.checkpoint.CheckpointManager` under `directory` for one run of
    `config`: `restore` returns the latest step's tree (or the given one at step 0),
    refusing a checkpoint written with another configuration; `save` writes one
    step; `close` waits for pending writes."""

    def __init__(self, directory: Path, config, keep: int):
        import orbax.checkpoint as ocp

        self._ocp = ocp
        self.config = config
        self.manager = ocp.CheckpointManager(
            directory, options=ocp.CheckpointManagerOptions(max_to_keep=keep)
        )

    def latest_step(self) -> int | None:
        return self.manager.latest_step()

    def restore(self, tree, where: Path):
        """`(step, tree)`: the latest checkpoint's arrays in `tree`'s structure, or
        `(0, tree)` when there is none."""
        step = self.manager.latest_step()
        if step is None:
            return 0, tree
        ocp = self._ocp
        arrays, treedef = jax.tree.flatten(eqx.filter(tree, eqx.is_array))
        skeleton = eqx.filter(tree, eqx.is_array, inverse=True)
        abstract = {
            str(i): jax.ShapeDtypeStruct(a.shape, a.dtype) for i, a in enumerate(arrays)
        }
        restored = self.manager.restore(
            step,
            args=ocp.args.Composite(
                arrays=ocp.args.StandardRestore(abstract),
                meta=ocp.args.JsonRestore(),
            ),
        )
        if restored["meta"]["config"] != json.loads(
            json.dumps(dataclasses.asdict(self.config))
        ):
            raise ValueError(
                f"{where} holds a run with another configuration; use a new --workdir."
            )
        arrays = [restored["arrays"][str(i)] for i in range(len(arrays))]
        return step, eqx.combine(jax.tree.unflatten(treedef, arrays), skeleton)

    def save(self, step: int, tree) -> None:
        ocp = self._ocp
        arrays = jax.tree.leaves(eqx.filter(tree, eqx.is_array))
        self.manager.save(
            step,
            args=ocp.args.Composite(
                arrays=ocp.args.StandardSave({str(i): a for i, a in enumerate(arrays)}),
                meta=ocp.args.JsonSave({"config": dataclasses.asdict(self.config)}),
            ),
        )

    def close(self) -> None:
        self.manager.wait_until_finished()
        self.manager.close()
