"""`pdessl inspect` and `pdessl plot`: look at a dataset file."""

import argparse

from pdessl.outputs import atomic_output, check_output

from ._common import add_overwrite


def run(args: argparse.Namespace) -> int:
    from pdessl.datasets._inspect import describe

    print(describe(args.file))
    return 0


def run_plot(args: argparse.Namespace) -> int:
    from pdessl.datasets._inspect import plot_samples

    out = check_output(
        args.out, inputs=(args.file, args.compare), overwrite=args.overwrite
    )
    with atomic_output(out) as tmp:
        plot_samples(args.file, tmp, num_samples=args.num_samples, compare=args.compare)
    print(f"wrote {out}")
    return 0


def add_parser(sub) -> None:
    ins = sub.add_parser("inspect", help="dims, ranges, attributes, NaN check")
    ins.add_argument("file")
    ins.set_defaults(func=run)

    plo = sub.add_parser("plot", help="space-time images of a few samples")
    plo.add_argument("file")
    plo.add_argument("--out", required=True)
    plo.add_argument("--num-samples", type=int, default=4)
    plo.add_argument(
        "--compare",
        default=None,
        help="a second file (e.g. from pdessl augment) shown below",
    )
    add_overwrite(plo)
    plo.set_defaults(func=run_plot)
