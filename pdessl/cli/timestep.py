"""`pdessl timestep`: conditioned neural time-steppers."""

import argparse

from pdessl.outputs import check_output

from ._common import add_overwrite, check_pair, write_results


def run(args: argparse.Namespace) -> int:

    from pdessl.downstream import (
        TimestepConfig,
        format_timestep_results,
        timestep_experiment,
    )

    def names(text, what):
        items = tuple(v.strip() for v in text.split(",") if v.strip())
        if not items:
            raise ValueError(f"--{what} needs at least one comma-separated value.")
        return items

    if args.out:
        check_output(
            args.out,
            inputs=(args.encoder, args.train, args.test),
            overwrite=args.overwrite,
        )
    check_pair(args.train, args.test)
    cond = args.cond or ("none,params,ssl" if args.encoder else "none,params")
    modes = names(cond, "cond")
    try:
        seeds = tuple(int(s) for s in names(args.seeds, "seeds"))
    except ValueError:
        raise ValueError(
            f"--seeds must be integers like 0,1,2, got {args.seeds!r}."
        ) from None
    config = TimestepConfig(
        time_window=args.time_window,
        width=args.width,
        depth=args.depth,
        steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        film=not args.additive,
    )
    results = timestep_experiment(
        args.train,
        args.test,
        modes=modes,
        seeds=seeds,
        config=config,
        encoder=args.encoder,
        params=names(args.params, "params") if args.params else None,
        log_params=not args.no_log_params,
    )
    print(format_timestep_results(results))
    write_results(args.out, results)
    return 0


def add_parser(sub) -> None:
    tst = sub.add_parser(
        "timestep",
        help="conditioned neural time-steppers: rollout NMSE per conditioning",
    )
    tst.add_argument("--train", required=True, help="training HDF5 file (1-D PDE)")
    tst.add_argument("--test", required=True, help="test HDF5 file")
    tst.add_argument("--encoder", default=None, help="encoder.eqx (for --cond ssl)")
    tst.add_argument(
        "--cond",
        default=None,
        help="comma-separated subset of none,params,ssl (default: all three with "
        "--encoder, else none,params)",
    )
    tst.add_argument(
        "--params",
        default=None,
        help="per-sample variables for params (default: the recipe's, e.g. nu)",
    )
    tst.add_argument("--no-log-params", action="store_true")
    tst.add_argument("--seeds", default="0,1,2")
    tst.add_argument(
        "--time-window", type=int, default=8, help="frames in and out (LPSDA: 20)"
    )
    tst.add_argument("--steps", type=int, default=500)
    tst.add_argument("--batch-size", type=int, default=32)
    tst.add_argument("--lr", type=float, default=2e-3)
    tst.add_argument("--width", type=int, default=32)
    tst.add_argument("--depth", type=int, default=3)
    tst.add_argument(
        "--additive",
        action="store_true",
        help="PDEArena's additive conditioning instead of FiLM",
    )
    tst.add_argument("--out", default=None, help="write the results as JSON")
    add_overwrite(tst)
    tst.set_defaults(func=run)
