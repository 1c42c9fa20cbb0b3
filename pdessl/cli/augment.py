"""`pdessl augment`: exact symmetries applied on the grid, file to file."""

import argparse

from pdessl.outputs import atomic_output, check_output

from ._common import add_overwrite


def run(args: argparse.Namespace) -> int:
    from pdessl.augment import augment_file, grid_augmentation
    from pdessl.datasets import open_dataset

    out = check_output(args.out, inputs=(args.src,), overwrite=args.overwrite)
    with open_dataset(args.src) as ds:
        pde = str(ds.attrs["pde"])
    aug = grid_augmentation(pde, args.generators, args.strengths)
    with atomic_output(out) as tmp:
        augment_file(args.src, tmp, aug, seed=args.seed, crop_time=args.crop_time)
    print(f"wrote {out} ({', '.join(aug.names)})")
    return 0


def add_parser(sub) -> None:
    aug = sub.add_parser(
        "augment", help="apply random exact symmetries on the grid, same layout"
    )
    aug.add_argument("src")
    aug.add_argument("--out", required=True)
    aug.add_argument(
        "--generators",
        nargs="+",
        default=None,
        help="default: the PDE's regriddable generators",
    )
    aug.add_argument("--strengths", nargs="+", type=float, default=None)
    aug.add_argument("--seed", type=int, default=0)
    aug.add_argument(
        "--crop-time",
        type=int,
        default=None,
        help="frames kept per sample (needed with time_shift)",
    )
    add_overwrite(aug)
    aug.set_defaults(func=run)
