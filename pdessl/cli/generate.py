"""`pdessl generate` and `pdessl merge`: datasets from recipes."""

import argparse
from pathlib import Path

from pdessl.errors import UserError
from pdessl.outputs import atomic_output, check_output, same_file

from ._common import add_overwrite, parse_shard


def run(args: argparse.Namespace) -> int:
    from pdessl import datasets

    if args.slurm < 0:
        raise UserError(
            f"--slurm N needs N >= 1 shards (0: no SLURM), got {args.slurm}."
        )
    recipe = datasets.load_recipe(args.recipe)
    out = Path(args.out)
    if out.is_dir():
        raise UserError(
            f"--out {out} is a directory; give a file name such as "
            f"{out / (recipe.name + '-' + args.split + '.h5')}."
        )
    if Path(args.recipe).is_file() and same_file(out, args.recipe):
        raise UserError(
            f"--out {out} is the recipe itself; give the dataset another name."
        )
    if args.slurm:
        from pdessl.datasets._slurm import shard_path, submit_shards

        jobs = submit_shards(
            args.recipe,
            args.split,
            args.out,
            num_shards=args.slurm,
            num_samples=args.num_samples,
            seed=args.seed,
            batch_size=args.batch_size,
            dtype=args.dtype,
            folder=args.slurm_folder,
            slurm_parameters=dict(
                timeout_min=args.slurm_timeout,
                **(
                    {"slurm_partition": args.slurm_partition}
                    if args.slurm_partition
                    else {}
                ),
            ),
        )
        print(f"submitted {len(jobs)} jobs: {', '.join(j.job_id for j in jobs)}")
        shards = " ".join(
            str(shard_path(args.out, i, args.slurm)) for i in range(args.slurm)
        )
        print(f"when they are done: pdessl merge {shards} --out {args.out}")
        return 0
    report = datasets.generate(
        recipe,
        args.split,
        args.out,
        num_samples=args.num_samples,
        seed=args.seed,
        shard=args.shard,
        batch_size=args.batch_size,
        dtype=args.dtype,
        progress=not args.no_progress,
    )
    if report.generated == 0:
        print(
            f"{report.path} is already complete ({report.num_samples_in_file} samples)"
        )
    else:
        resumed = (
            f", resumed after {report.resumed_from}" if report.resumed_from else ""
        )
        print(
            f"wrote {report.generated} samples to {report.path}{resumed} in "
            f"{report.seconds:.1f} s ({report.samples_per_second:.1f} samples/s, "
            f"{report.redrawn} redrawn)"
        )
    return 0


def run_merge(args: argparse.Namespace) -> int:
    from pdessl import datasets

    out = check_output(args.out, inputs=args.shards, overwrite=args.overwrite)
    with atomic_output(out) as tmp:
        datasets.merge(args.shards, tmp)
    print(f"merged {len(args.shards)} shards into {out}")
    return 0


def add_parser(sub) -> None:
    gen = sub.add_parser("generate", help="generate a recipe's split into an HDF5 file")
    gen.add_argument(
        "recipe", help="shipped recipe name (ks, burgers-tiny, ...) or .toml path"
    )
    gen.add_argument("--split", default="train")
    gen.add_argument(
        "--num-samples",
        type=int,
        default=None,
        help="default: the recipe's size for the split",
    )
    gen.add_argument("--out", required=True)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--shard", type=parse_shard, default=(0, 1), metavar="I/N")
    gen.add_argument("--batch-size", type=int, default=32)
    gen.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    gen.add_argument("--no-progress", action="store_true")
    gen.add_argument(
        "--slurm",
        type=int,
        default=0,
        metavar="N",
        help="submit N shards as a SLURM job array (needs pdessl[cluster])",
    )
    gen.add_argument("--slurm-folder", default="slurm_logs")
    gen.add_argument("--slurm-partition", default=None)
    gen.add_argument("--slurm-timeout", type=int, default=240, help="minutes")
    gen.set_defaults(func=run)

    mer = sub.add_parser("merge", help="join the shards of one generation")
    mer.add_argument("shards", nargs="+")
    mer.add_argument("--out", required=True)
    add_overwrite(mer)
    mer.set_defaults(func=run_merge)
