"""`pdessl experiment` and `pdessl quickstart`: data, pretraining and evaluation from one TOML file."""

import argparse

from ._common import parse_seeds


def run(args: argparse.Namespace) -> int:
    from pdessl.experiment import load_experiment, run_experiment

    config = load_experiment(args.config)
    seeds = parse_seeds(args.seeds) if args.seeds else None
    workdir = args.workdir or f"runs/{config.name}"
    run_experiment(config, workdir, seeds=seeds, figures=not args.no_figures)
    print(f"results in {workdir}/results.json")
    return 0


def add_parser(sub) -> None:
    exp = sub.add_parser(
        "experiment", help="data, pretraining and evaluation from one TOML file"
    )
    exp.add_argument("config", help="a shipped experiment (quickstart) or a TOML file")
    exp.add_argument("--workdir", default=None, help="default: runs/NAME")
    exp.add_argument("--seeds", default=None, help="override the config's seeds")
    exp.add_argument("--no-figures", action="store_true")
    exp.set_defaults(func=run)

    qs = sub.add_parser(
        "quickstart",
        help="Burgers: generate, pretrain, SSL probe vs supervised (a few minutes)",
    )
    qs.add_argument("--workdir", default="runs/quickstart")
    qs.add_argument("--seeds", default=None)
    qs.add_argument("--no-figures", action="store_true")
    qs.set_defaults(func=run, config="quickstart")
