"""`pdessl import`: LPSDA and PDEArena files to pdessl's layout."""

import argparse

from pdessl.outputs import atomic_output, check_output

from ._common import add_overwrite


def run(args: argparse.Namespace) -> int:
    from pdessl import datasets

    if args.format == "lpsda" and args.pde is None:
        raise ValueError("LPSDA files need --pde ks|kdv|burgers.")
    out = check_output(args.out, inputs=(args.src,), overwrite=args.overwrite)
    with atomic_output(out) as tmp:
        if args.format == "lpsda":
            datasets.import_lpsda(
                args.src,
                tmp,
                pde=args.pde,
                split=args.split,
                nu=args.nu,
                dtype=args.dtype,
                allow_nonfinite=args.allow_nonfinite,
                check_physics=not args.no_check_physics,
            )
        else:
            datasets.import_pdearena_smoke(
                args.src,
                tmp,
                split=args.split,
                dtype=args.dtype,
                allow_nonfinite=args.allow_nonfinite,
            )
    print(f"wrote {out}")
    return 0


def add_parser(sub) -> None:
    imp = sub.add_parser("import", help="convert LPSDA or PDEArena files to our layout")
    imp.add_argument("format", choices=("lpsda", "pdearena"))
    imp.add_argument("src")
    imp.add_argument("--out", required=True)
    imp.add_argument("--split", default=None, help="HDF5 group (default: the only one)")
    imp.add_argument(
        "--pde",
        choices=("ks", "kdv", "burgers"),
        default=None,
        help="LPSDA only: which PDE the file holds",
    )
    imp.add_argument(
        "--nu",
        type=float,
        default=0.01,
        help="LPSDA burgers only: the heat file's viscosity (LPSDA: 0.01)",
    )
    imp.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    imp.add_argument(
        "--allow-nonfinite",
        action="store_true",
        help="keep samples holding NaN or Inf (counted in the file's notes); "
        "without it such a source is refused",
    )
    imp.add_argument(
        "--no-check-physics",
        action="store_true",
        help="LPSDA: skip the PDE residual check of the converted field (by default "
        "an import whose relative residual exceeds 0.05 is refused)",
    )
    add_overwrite(imp)
    imp.set_defaults(func=run)
