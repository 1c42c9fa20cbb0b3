"""Batched, resumable, sharded generation of a recipe's split into one HDF5 file."""

import dataclasses
import json
import os
import time
from importlib import metadata
from pathlib import Path

import h5netcdf
import h5py
import numpy as np
from tqdm.auto import tqdm

from pdessl import pdes
from pdessl.runlock import RunLock

from ._journal import Journal, journal_dir
from ._memory import check_memory
from ._recipe import Recipe, recipe_fingerprint
from ._sampling import solve_samples
from ._store import (
    FIELD,
    DatasetFileError,
    DatasetWriter,
    check_readable,
    read_identity,
)

DTYPES = ("float32", "float64")
# Fields of the identity that must match for a resume or a merge.
_IDENTITY_KEYS = (
    "recipe",
    "pde",
    "split",
    "seed",
    "num_samples",
    "shard",
    "dtype",
    "sample_start",
    "num_samples_in_file",
)


@dataclasses.dataclass(frozen=True)
class GenerationReport:
    path: Path
    num_samples_in_file: int
    resumed_from: int
    generated: int
    redrawn: int
    seconds: float

    @property
    def samples_per_second(self) -> float:
        return self.generated / self.seconds if self.seconds > 0 else float("nan")


def shard_range(num_samples: int, shard: int, num_shards: int) -> tuple[int, int]:
    """Global sample indices `[start, stop)` of shard `shard` of `num_shards`: disjoint,
    contiguous, covering `range(num_samples)`, sizes differing by at most one."""
    if num_shards < 1 or not 0 <= shard < num_shards:
        raise ValueError(
            f"shard must be I/N with 0 <= I < N, got {shard}/{num_shards}."
        )
    if num_shards > num_samples:
        raise ValueError(
            f"cannot split {num_samples} samples into {num_shards} shards."
        )
    return shard * num_samples // num_shards, (shard + 1) * num_samples // num_shards


def _versions() -> dict[str, str]:
    out = {}
    for dist in ("pdessl", "jax", "jaxlib", "diffrax", "equinox", "numpy", "h5py"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out


def _identity(recipe, split, seed, num_samples, shard, num_shards, dtype) -> dict:
    start, stop = shard_range(num_samples, shard, num_shards)
    return dict(
        recipe=recipe_fingerprint(recipe),
        recipe_name=recipe.name,
        pde=recipe.pde,
        split=split,
        seed=seed,
        num_samples=num_samples,
        shard=[shard, num_shards],
        sample_start=start,
        num_samples_in_file=stop - start,
        dtype=dtype,
    )


def identity_mismatch(a: dict, b: dict, keys=_IDENTITY_KEYS) -> list[str]:
    return [k for k in keys if a.get(k) != b.get(k)]


def _fields(recipe: Recipe) -> tuple[str, ...]:
    return pdes.get(recipe.pde).fields


def _per_sample_layout(recipe: Recipe) -> dict:
    return pdes.get(recipe.pde).layout(recipe)


def generate(
    recipe: Recipe,
    split: str,
    out: str | Path,
    *,
    num_samples: int | None = None,
    seed: int = 0,
    shard: tuple[int, int] = (0, 1),
    batch_size: int = 32,
    dtype: str = "float32",
    progress: bool = True,
) -> GenerationReport:
    """Generate `num_samples` samples (default: the recipe's split size) of `split`,
    or shard `shard = (I, N)` of them, into `out`.

    Committed batches go to a journal `OUT.partial/` (see `_journal`); rerunning the
    same call after an interruption resumes after the last committed batch, and the
    HDF5 file appears, complete, when the last sample is in. Another call's arguments
    (recipe, split, seed, sizes, shard, dtype) are refused rather than mixed in.

    Samples are solved in float64 and stored as `dtype`. Failed or non-finite solves
    are redrawn with fresh keys and counted in the `num_redrawn` attribute.
    """
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
    num_samples = recipe.split_size(split) if num_samples is None else num_samples
    check_memory(recipe, max(1, min(batch_size, num_samples)))  # before allocating
    if num_samples < 1:
        raise ValueError(f"num_samples must be >= 1, got {num_samples}.")
    identity = _identity(recipe, split, seed, num_samples, *shard, dtype)
    n_file = identity["num_samples_in_file"]
    out = Path(out)
    layout = _per_sample_layout(recipe)
    if out.is_dir():
        raise DatasetFileError(f"{out} is a directory; give the file to write.")

    if out.exists():
        try:
            check_readable(out)
        except DatasetFileError as err:
            raise DatasetFileError(
                f"cannot resume into {out}: {err} Remove it or choose another --out."
            ) from None
        _check_same_generation(out, identity, read_identity(out))
        return GenerationReport(out, n_file, n_file, 0, 0, 0.0)

    # One generation per output at a time: two would interleave their batches.
    lock_dir = journal_dir(out)
    lock_dir.mkdir(parents=True, exist_ok=True)
    with RunLock(lock_dir / "generate.lock", what=f"the generation of {out}"):
        return _generate_locked(
            recipe, split, out, identity, layout, shard, batch_size, dtype, progress
        )


def _generate_locked(
    recipe, split, out, identity, layout, shard, batch_size, dtype, progress
) -> GenerationReport:
    start, n_file = identity["sample_start"], identity["num_samples_in_file"]
    seed = identity["seed"]
    journal = Journal.open(out, identity)
    _check_same_generation(journal.folder, identity, journal.identity)
    resumed_from = journal.n_complete
    redrawn = 0
    began = time.perf_counter()
    desc = f"{recipe.name}/{split}"
    if shard[1] > 1:
        desc += f" shard {shard[0]}/{shard[1]}"
    with tqdm(
        total=n_file,
        initial=resumed_from,
        unit="sample",
        desc=desc,
        disable=not progress,
    ) as bar:
        done = resumed_from
        while done < n_file:
            count = min(batch_size, n_file - done)
            indices = np.arange(start + done, start + done + count)
            res, n_redrawn = solve_samples(
                recipe, seed, split, indices, batch_size, storage_dtype=dtype
            )
            batch = {f: res[f].astype(dtype) for f in _fields(recipe)}
            batch["index"] = indices
            batch.update({k: res[k] for k in layout if k != "index"})
            journal.commit(done, batch, n_redrawn)
            redrawn += n_redrawn
            done += count
            bar.update(count)

    _assemble(journal, out, recipe, identity, layout, dtype)
    return GenerationReport(
        path=out,
        num_samples_in_file=n_file,
        resumed_from=resumed_from,
        generated=n_file - resumed_from,
        redrawn=redrawn,
        seconds=time.perf_counter() - began,
    )


def _check_same_generation(where, identity: dict, existing: dict) -> None:
    diff = identity_mismatch(identity, existing)
    if not diff:
        return
    details = "; ".join(
        f"{k}: file has {existing.get(k)!r}, asked for {identity[k]!r}"
        for k in diff
        if k != "recipe"
    )
    if "recipe" in diff:
        details = "the recipe differs" + (f"; {details}" if details else "")
    raise DatasetFileError(
        f"{where} holds a different generation ({details}). Use the same arguments "
        "to resume it, or another --out for a new dataset."
    )


def _solver_settings(recipe: Recipe) -> dict:
    if recipe.steps_per_save is not None:
        return dict(
            method="ETDRK4",
            steps_per_save=recipe.steps_per_save,
            num_contour_points=32,
            precision="float64",
        )
    return dict(
        method="Tsit5 + PID", rtol=recipe.rtol, atol=recipe.atol, precision="float64"
    )


def _assemble(journal: Journal, out: Path, recipe, identity, layout, dtype) -> None:
    """Write the journal's samples into the HDF5 file (under a temporary name,
    renamed when closed), then drop the journal."""
    tmp = out.with_name(out.name + ".assembling")
    with DatasetWriter.create(
        tmp,
        time=recipe.keep_last,
        space=recipe.space_shape,
        per_sample=layout,
        dtype=dtype,
        fields=_fields(recipe),
        attrs=dict(
            pde=recipe.pde,
            recipe=recipe.source,
            recipe_name=recipe.name,
            identity=json.dumps(identity),
            seed=identity["seed"],
            split=identity["split"],
            solver=json.dumps(_solver_settings(recipe)),
            versions=json.dumps(_versions()),
            description=recipe.description,
            # Where the grid points are: periodic points i*dx on [0, L), or the cell
            # centres (i + 1/2)*dx of a closed box [0, L] with free-slip walls.
            boundary=recipe.boundary,
        ),
    ) as writer:
        # Batch by batch: the whole dataset need not fit in memory.
        for batch in journal.iter_batches():
            writer.append(batch)
        writer.add_redrawn(journal.num_redrawn)
    os.replace(tmp, out)
    journal.remove()


def merge(shards: list[str | Path], out: str | Path) -> Path:
    """Join the complete shards of one generation into one file, equal to what a
    single process would have written (same samples, order, variables, identity,
    `seed` and `split` attributes). Shards that differ in seed, split, recipe, size
    or dtype are refused."""
    if not shards:
        raise ValueError("no shard files given.")
    out = Path(out)
    if out.exists():
        raise DatasetFileError(f"{out} exists; merge writes a new file.")
    infos = []
    for p in shards:
        ident = read_identity(p)
        with h5py.File(p, "r") as f:
            n = int(np.asarray(f.attrs["n_complete"]).ravel()[0])
        if n != ident["num_samples_in_file"]:
            raise DatasetFileError(
                f"{p} is incomplete ({n} of {ident['num_samples_in_file']} samples); "
                "resume its generation before merging."
            )
        infos.append((ident, Path(p)))
    first = infos[0][0]
    for ident, p in infos[1:]:
        diff = identity_mismatch(
            first, ident, keys=("recipe", "split", "seed", "num_samples", "dtype")
        )
        if diff:
            raise DatasetFileError(
                f"{p} belongs to another generation (differs in {diff})."
            )
    num_shards = first["shard"][1]
    got = sorted(ident["shard"][0] for ident, _ in infos)
    if got != list(range(num_shards)) or any(
        i["shard"][1] != num_shards for i, _ in infos
    ):
        raise DatasetFileError(
            f"need each of the {num_shards} shards exactly once, got shard numbers {got}."
        )
    infos.sort(key=lambda item: item[0]["shard"][0])

    identity = dict(
        first, shard=[0, 1], sample_start=0, num_samples_in_file=first["num_samples"]
    )
    with h5netcdf.File(infos[0][1], "r") as f0:
        attrs = {
            k: f0.attrs[k]
            for k in (
                "pde",
                "recipe",
                "recipe_name",
                "solver",
                "versions",
                "description",
            )
        }
        if "boundary" in f0.attrs:  # files written before the box lack it
            attrs["boundary"] = f0.attrs["boundary"]
        per_sample = {
            name: (var.dtype, var.shape[1:])
            for name, var in f0.variables.items()
            if name != FIELD and var.dimensions[:1] == ("sample",)
        }
        field = f0.variables[FIELD]
        time_len, space = field.shape[1], field.shape[2:]
        dtype = str(field.dtype)
    attrs["identity"] = json.dumps(identity)
    # The seed and split every shard's identity agrees on (checked above: shards of
    # other seeds or splits are refused), as a generated file carries them.
    attrs.update({k: first[k] for k in ("seed", "split") if first.get(k) is not None})
    # Under a temporary name, renamed when complete: no half-merged file under `out`.
    tmp = out.with_name(f".{out.name}.{os.getpid()}.merging")
    try:
        with DatasetWriter.create(
            tmp,
            time=time_len,
            space=space,
            per_sample=per_sample,
            dtype=dtype,
            attrs=attrs,
        ) as writer:
            for _, p in infos:
                with h5py.File(p, "r") as f:
                    batch = {name: f[name][...] for name in (FIELD, *per_sample)}
                    writer.append(
                        batch,
                        redrawn=int(np.asarray(f.attrs["num_redrawn"]).ravel()[0]),
                    )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
