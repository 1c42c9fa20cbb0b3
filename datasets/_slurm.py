"""Submitting the shards of a generation as a SLURM job array (submitit, optional)."""

from pathlib import Path


def shard_path(out: str | Path, shard: int, num_shards: int) -> Path:
    out = Path(out)
    return out.with_name(f"{out.stem}.shard{shard:04d}of{num_shards:04d}{out.suffix}")


def _run_shard(recipe_ref: str, split: str, out: str, kwargs: dict) -> str:
    # Runs on the compute node: re-import so the job needs only picklable arguments.
    from pdessl.datasets import generate, load_recipe

    report = generate(load_recipe(recipe_ref), split, out, progress=False, **kwargs)
    return str(report.path)


def submit_shards(
    recipe_ref: str,
    split: str,
    out: str | Path,
    *,
    num_shards: int,
    num_samples: int | None,
    seed: int,
    batch_size: int,
    dtype: str,
    folder: str | Path,
    cluster: str | None = None,
    slurm_parameters: dict | None = None,
) -> list:
    """Submit `num_shards` jobs (a job array under SLURM); each writes
    `shard_path(out, i, num_shards)` and can be resubmitted to resume. `cluster="local"`
    runs the jobs as local processes (submitit's local executor), for testing."""
    try:
        import submitit
    except ImportError:
        raise ImportError(
            "--slurm needs submitit: pip install 'pdessl[cluster]'"
        ) from None
    executor = submitit.AutoExecutor(folder=str(folder), cluster=cluster)
    executor.update_parameters(**(slurm_parameters or {}))
    args = []
    for i in range(num_shards):
        kwargs = dict(
            num_samples=num_samples,
            seed=seed,
            shard=(i, num_shards),
            batch_size=batch_size,
            dtype=dtype,
        )
        args.append((recipe_ref, split, str(shard_path(out, i, num_shards)), kwargs))
    with executor.batch():
        jobs = [executor.submit(_run_shard, *a) for a in args]
    return jobs
