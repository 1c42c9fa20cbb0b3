"""`pdessl pretrain`: VICReg pretraining, locally, multi-process or on SLURM."""

import argparse
import contextlib
import dataclasses
import os
from pathlib import Path

from pdessl.errors import UserError

from ._common import add_overrides, check_data, parse_nodes_gpus


def run(args: argparse.Namespace) -> int:
    import jax

    if args.num_processes > 1 or args.coordinator:
        # Multi-process data parallelism; under SLURM (srun) initialize() with no
        # arguments finds everything itself.
        jax.distributed.initialize(
            coordinator_address=args.coordinator,
            num_processes=args.num_processes,
            process_id=args.process_id,
        )
    elif "SLURM_NTASKS" in os.environ and int(os.environ["SLURM_NTASKS"]) > 1:
        jax.distributed.initialize()
    from pdessl.overrides import override_pretrain_config, write_effective_config
    from pdessl.training import load_config, pretrain

    overrides = dict(steps=args.steps, seed=args.seed)
    config = load_config(args.config, **overrides)  # errors before submitting
    config = override_pretrain_config(config, args.overrides)  # KEY=VALUE tokens
    if args.overrides:
        overrides = dataclasses.asdict(config)  # what the SLURM job rebuilds
    if args.data is not None:
        check_data(args.data, "--data")
    workdir = Path(args.workdir)
    if workdir.exists() and not workdir.is_dir():
        raise UserError(
            f"--workdir {workdir} is a file; give a directory (it is created if "
            "missing, and a run in it is resumed)."
        )
    if args.slurm:
        from pdessl.training._slurm import slurm_parameters, submit_pretraining

        nodes, gpus = args.slurm
        job = submit_pretraining(
            args.config,
            args.workdir,
            data=args.data,
            overrides={k: v for k, v in overrides.items() if v is not None},
            folder=args.slurm_folder,
            parameters=slurm_parameters(
                nodes,
                gpus,
                timeout_min=args.slurm_timeout,
                partition=args.slurm_partition,
            ),
        )
        print(
            f"submitted job {job.job_id}: {nodes * gpus} tasks ({nodes} node(s) x "
            f"{gpus} GPU(s)), {config.steps} steps; logs in {args.slurm_folder}. "
            "Submit the same command again to resume after a preemption or timeout."
        )
        return 0
    workdir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if jax.process_index() == 0:  # one lock for all processes of the run
            from pdessl.runlock import RunLock

            stack.enter_context(
                RunLock(
                    workdir / "pretrain.lock", what=f"the pretraining workdir {workdir}"
                )
            )
            write_effective_config(workdir, config, args.overrides, source=args.config)
        metrics = pretrain(config, args.workdir, data=args.data)
    if "preempted_at" in metrics:
        from pdessl.training._preemption import EXIT_CODE

        print(
            f"stopped by a preemption signal; checkpoint at step "
            f"{metrics['preempted_at']} in {args.workdir}/checkpoints. Run the same "
            "command again to resume."
        )
        return EXIT_CODE
    print(
        f"done: loss {metrics.get('loss', float('nan')):.4f}; encoder at "
        f"{args.workdir}/encoder.eqx, metrics in {args.workdir}/metrics.jsonl"
    )
    return 0


def add_parser(sub) -> None:
    pre = sub.add_parser(
        "pretrain",
        help="VICReg pretraining with Lie symmetry views",
        description="VICReg pretraining. Resumes from the workdir's last checkpoint. "
        "On SIGTERM or SIGUSR1 it saves a checkpoint at the next step and exits with "
        "code 3 (rerun to resume); errors exit with code 2.",
    )
    pre.add_argument("config", help="a preset (tiny, ns-tiny) or a TOML file")
    add_overrides(pre, "steps=3000 batch_size=64 symmetries.scaling=0")
    pre.add_argument("--workdir", required=True)
    pre.add_argument(
        "--data",
        default=None,
        help="training file (default: generate the config's data_recipe)",
    )
    pre.add_argument("--steps", type=int, default=None)
    pre.add_argument("--seed", type=int, default=None)
    pre.add_argument("--coordinator", default=None, help="host:port of process 0")
    pre.add_argument("--num-processes", type=int, default=1)
    pre.add_argument("--process-id", type=int, default=None)
    pre.add_argument(
        "--slurm",
        type=parse_nodes_gpus,
        default=None,
        metavar="NODES/GPUS",
        help="submit to SLURM with submitit: one task per GPU, e.g. 2/4",
    )
    pre.add_argument("--slurm-folder", default="slurm_logs")
    pre.add_argument("--slurm-partition", default=None)
    pre.add_argument("--slurm-timeout", type=int, default=240, help="minutes")
    pre.set_defaults(func=run)
