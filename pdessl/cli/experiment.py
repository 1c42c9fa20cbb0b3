"""`pdessl experiment` and `pdessl quickstart`: data, pretraining and evaluation from one TOML file."""

import argparse

from ._common import add_overrides, parse_seeds


def run(args: argparse.Namespace) -> int:
    from pdessl.experiment import load_experiment, run_experiment
    from pdessl.overrides import override_experiment, write_effective_config

    config = override_experiment(load_experiment(args.config), args.overrides)
    seeds = parse_seeds(args.seeds) if args.seeds else None
    workdir = args.workdir or f"runs/{config.name}"
    run_experiment(config, workdir, seeds=seeds, figures=not args.no_figures)
    write_effective_config(workdir, config, args.overrides, source=args.config)
    print(f"results in {workdir}/results.json")
    return 0


def add_parser(sub) -> None:
    exp = sub.add_parser(
        "experiment", help="data, pretraining and evaluation from one TOML file"
    )
    exp.add_argument("config", help="a shipped experiment (quickstart) or a TOML file")
    add_overrides(exp, "pretrain.steps=3000 regression.labelled=128")
    exp.add_argument("--workdir", default=None, help="default: runs/NAME")
    exp.add_argument("--seeds", default=None, help="override the config's seeds")
    exp.add_argument("--no-figures", action="store_true")
    exp.set_defaults(func=run)

    qs = sub.add_parser(
        "quickstart",
        help="Burgers: generate, pretrain, SSL probe vs supervised (a few minutes)",
    )
    add_overrides(qs, "pretrain.steps=3000 regression.labelled=128")
    qs.add_argument("--workdir", default="runs/quickstart")
    qs.add_argument("--seeds", default=None)
    qs.add_argument("--no-figures", action="store_true")
    qs.set_defaults(func=run, config="quickstart")
