"""`pdessl probe`: regression from frozen representations vs baselines."""

import argparse

from pdessl.outputs import check_output

from ._common import add_overwrite, check_pair, parse_seeds, write_results


def run(args: argparse.Namespace) -> int:

    import pdessl
    from pdessl import downstream

    if args.out:
        check_output(
            args.out,
            inputs=(args.encoder, args.train, args.test),
            overwrite=args.overwrite,
        )
    check_pair(args.train, args.test)
    encoder = pdessl.load_encoder(args.encoder)
    report = downstream.run_regression(
        encoder,
        args.train,
        args.test,
        args.target,
        labelled=args.labelled,
        seeds=parse_seeds(args.seeds),
        heads=tuple(args.heads.split(",")),
        supervised=not args.no_supervised,
        supervised_steps=args.supervised_steps,
        head_steps=args.head_steps,
        log_target={"auto": None, "yes": True, "no": False}[args.log_target],
        crops=args.crops,
    )
    print(downstream.format_results(report))
    write_results(args.out, report)
    return 0


def add_parser(sub) -> None:
    pro = sub.add_parser(
        "probe",
        help="regress a parameter from frozen representations vs a supervised net",
    )
    pro.add_argument("--encoder", required=True, help="an exported encoder.eqx")
    pro.add_argument("--train", required=True, help="labelled pool (HDF5)")
    pro.add_argument("--test", required=True, help="held-out test split (HDF5)")
    pro.add_argument("--target", required=True, help="per-sample variable, e.g. nu")
    pro.add_argument(
        "--labelled", type=int, default=None, help="labelled subset size per seed"
    )
    pro.add_argument("--seeds", default="0,1,2")
    pro.add_argument("--heads", default="linear,mlp", help="linear and/or mlp")
    pro.add_argument("--no-supervised", action="store_true")
    pro.add_argument("--supervised-steps", type=int, default=300)
    pro.add_argument("--head-steps", type=int, default=1000)
    pro.add_argument("--log-target", choices=("auto", "yes", "no"), default="auto")
    pro.add_argument("--crops", choices=("mean", "first"), default="mean")
    pro.add_argument("--out", default=None, help="write the results as JSON")
    add_overwrite(pro)
    pro.set_defaults(func=run)
