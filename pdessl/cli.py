"""The `pdessl` command. It parses arguments and calls library functions."""

import argparse
import contextlib
import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np

from pdessl.errors import UserError, describe_os_error
from pdessl.outputs import atomic_output, check_output, same_file, write_json

_PDES = ("ks", "kdv", "burgers", "heat")


def _make_pde(name: str, viscosity: float):
    from pdessl import solvers

    if name == "ks":
        return solvers.KuramotoSivashinsky()
    if name == "kdv":
        return solvers.KortewegDeVries()
    if name == "burgers":
        return solvers.Burgers(viscosity)
    if name == "heat":
        return solvers.Heat(viscosity)
    raise ValueError(f"unknown PDE {name!r}; choose one of {', '.join(_PDES)}.")


def _simulate(args: argparse.Namespace) -> int:
    import jax

    from pdessl import solvers

    if args.num_samples < 1:
        raise ValueError(f"--num-samples must be >= 1, got {args.num_samples}.")
    if args.out:
        if Path(args.out).suffix != ".npz":
            raise UserError(
                f"--out {args.out}: simulate writes a NumPy archive, so the name must "
                "end in .npz (for an HDF5 dataset use `pdessl generate`)."
            )
        check_output(args.out, overwrite=args.overwrite)
    pde = _make_pde(args.pde, args.viscosity)
    grid = solvers.Grid1d(args.nx, args.length)
    keys = jax.random.split(jax.random.key(args.seed), args.num_samples)
    u0 = np.stack([np.asarray(solvers.sample_sine_series(k)(grid)) for k in keys])
    stepping = solvers.FixedStepETDRK4(args.steps_per_save)
    start = time.perf_counter()
    sol = solvers.solve_batch(
        pde,
        grid,
        u0,
        args.t1,
        args.num_saves,
        discard_first=args.discard_first,
        stepping=stepping,
    )
    sol.u.block_until_ready()
    elapsed = time.perf_counter() - start
    status = np.asarray(sol.status)
    u = np.asarray(sol.u)
    dt = args.t1 / ((args.num_saves - 1) * args.steps_per_save)
    print(
        f"{args.pde}: {args.num_samples} trajectories, nx={args.nx}, L={args.length}, "
        f"T={args.t1}, dt={dt:.4g}, {u.shape[1]} saved frames"
    )
    print(f"wall time {elapsed:.2f} s (including compilation)")
    for i, s in enumerate(status):
        name = solvers.SolveStatus(int(s)).name
        if s == solvers.SolveStatus.SUCCESS:
            ui = u[i]
            print(
                f"  sample {i}: {name}, u in [{ui.min():+.3f}, {ui.max():+.3f}], "
                f"mean drift {abs(ui[-1].mean() - u0[i].mean()):.1e}"
            )
        else:
            print(f"  sample {i}: {name}")
    if args.out:
        with atomic_output(args.out) as tmp, open(tmp, "wb") as f:
            # A file object: np.savez would append .npz to a name.
            np.savez(f, u=u, t=np.asarray(sol.ts), x=np.asarray(grid.x), status=status)
        print(f"wrote {args.out}")
    return 0 if np.all(status == 0) else 1


def _parse_shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--shard must look like I/N (e.g. 0/4), got {text!r}"
        ) from None
    if n < 1 or not 0 <= i < n:
        raise argparse.ArgumentTypeError(
            f"--shard I/N needs N >= 1 and 0 <= I < N (shards are numbered from 0), "
            f"got {text!r}"
        )
    return i, n


def _negative_values_attached(argv: list[str]) -> list[str]:
    """`--shard -1/2` as `--shard=-1/2`: argparse takes a value starting with `-` for
    an option and would say only "expected one argument"; attached, the value
    reaches the parser, which names the valid range."""
    out = []
    i = 0
    while i < len(argv):
        if argv[i] == "--shard" and i + 1 < len(argv) and argv[i + 1][:1] == "-":
            out.append(f"--shard={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def _parse_nodes_gpus(text: str) -> tuple[int, int]:
    try:
        nodes, gpus = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--slurm must look like NODES/GPUS (e.g. 2/4), got {text!r}"
        ) from None
    if nodes < 1 or gpus < 1:
        raise argparse.ArgumentTypeError(
            f"--slurm needs NODES, GPUS >= 1, got {text!r}"
        )
    return nodes, gpus


def _generate(args: argparse.Namespace) -> int:
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


def _merge(args: argparse.Namespace) -> int:
    from pdessl import datasets

    out = check_output(args.out, inputs=args.shards, overwrite=args.overwrite)
    with atomic_output(out) as tmp:
        datasets.merge(args.shards, tmp)
    print(f"merged {len(args.shards)} shards into {out}")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from pdessl.datasets._inspect import describe

    print(describe(args.file))
    return 0


def _plot(args: argparse.Namespace) -> int:
    from pdessl.datasets._inspect import plot_samples

    out = check_output(
        args.out, inputs=(args.file, args.compare), overwrite=args.overwrite
    )
    with atomic_output(out) as tmp:
        plot_samples(args.file, tmp, num_samples=args.num_samples, compare=args.compare)
    print(f"wrote {out}")
    return 0


def _import(args: argparse.Namespace) -> int:
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


def _augment(args: argparse.Namespace) -> int:
    from pdessl import symmetries
    from pdessl.augment import augment_file
    from pdessl.datasets import open_dataset

    out = check_output(args.out, inputs=(args.src,), overwrite=args.overwrite)
    with open_dataset(args.src) as ds:
        pde = str(ds.attrs["pde"])
    strengths = {}
    if args.strengths and not args.generators:
        raise ValueError("--strengths needs --generators to say which is which.")
    if args.generators:
        if args.strengths and len(args.strengths) != len(args.generators):
            raise ValueError("give one --strengths value per --generators name.")
        known = (*symmetries.default_augmentation(pde).names, "time_shift")
        unknown = set(args.generators) - set(known)
        if unknown:
            raise ValueError(
                f"unknown generator(s) {sorted(unknown)} for {pde}; choose from "
                f"{', '.join(known)}."
            )
        values = args.strengths or [None] * len(args.generators)
        defaults = {
            g.name + (f"_{g.axis}" if hasattr(g, "axis") else ""): g.strength
            for g in symmetries.default_generators(pde)
        }
        for name in known:
            strengths[name] = 0.0
        for name, value in zip(args.generators, values, strict=True):
            strengths[name] = value if value is not None else defaults.get(name, 1.0)
    generators = symmetries.default_generators(pde, **strengths)
    generators = tuple(g for g in generators if g.regriddable)
    aug = symmetries.Augmentation(generators, trotter_order=1, trotter_steps=1)
    with atomic_output(out) as tmp:
        augment_file(args.src, tmp, aug, seed=args.seed, crop_time=args.crop_time)
    print(f"wrote {out} ({', '.join(aug.names)})")
    return 0


def _pretrain(args: argparse.Namespace) -> int:
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
        _check_data(args.data, "--data")
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


def _seeds(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(
            f"--seeds takes integers separated by commas, got {text!r}."
        ) from None


def _write_json(path: str | None, report: dict) -> None:
    """Write a command's results as JSON when `--out` was given (checked before the
    work by `check_output`)."""
    if path:
        write_json(path, report)
        print(f"wrote {path}")


def _check_data(path: str, flag: str) -> str:
    """Refuse an input dataset that cannot be read, is incomplete, has inconsistent
    grid metadata or holds NaN/Inf; return its PDE."""
    from pdessl import datasets

    with datasets.open_dataset(path) as ds:
        pde = str(ds.attrs.get("pde", ""))
    try:
        datasets.check_finite(path)
    except datasets.DatasetFileError as err:
        raise UserError(f"{flag}: {err}") from None
    return pde


def _check_pair(train: str, test: str) -> None:
    """The train and test files must hold the same PDE."""
    pdes = _check_data(train, "--train"), _check_data(test, "--test")
    if pdes[0] != pdes[1]:
        raise UserError(
            f"--train {train} holds {pdes[0]!r} data but --test {test} holds "
            f"{pdes[1]!r}; give a train and a test split of the same PDE "
            "(`pdessl inspect FILE` shows a file's PDE)."
        )


def _probe(args: argparse.Namespace) -> int:

    import pdessl
    from pdessl import downstream

    if args.out:
        check_output(
            args.out,
            inputs=(args.encoder, args.train, args.test),
            overwrite=args.overwrite,
        )
    _check_pair(args.train, args.test)
    encoder = pdessl.load_encoder(args.encoder)
    report = downstream.run_regression(
        encoder,
        args.train,
        args.test,
        args.target,
        labelled=args.labelled,
        seeds=_seeds(args.seeds),
        heads=tuple(args.heads.split(",")),
        supervised=not args.no_supervised,
        supervised_steps=args.supervised_steps,
        head_steps=args.head_steps,
        log_target={"auto": None, "yes": True, "no": False}[args.log_target],
        crops=args.crops,
    )
    print(downstream.format_results(report))
    _write_json(args.out, report)
    return 0


def _timestep(args: argparse.Namespace) -> int:

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
    _check_pair(args.train, args.test)
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
    _write_json(args.out, results)
    return 0


def _embed(args: argparse.Namespace) -> int:
    import pdessl
    from pdessl.api import write_embeddings

    out = check_output(
        args.out, inputs=(args.encoder, args.data), overwrite=args.overwrite
    )
    _check_data(args.data, "DATA")
    encoder = pdessl.load_encoder(args.encoder)
    emb = pdessl.embed_dataset(
        encoder,
        args.data,
        crops=args.crops,
        check_grid=not args.no_check_grid,
        resample=args.resample,
    )
    with atomic_output(out) as tmp:
        write_embeddings(emb, tmp)
    n, dim = emb.representation.shape
    print(f"wrote {n} representations of dimension {dim} to {args.out}")
    return 0


def _experiment(args: argparse.Namespace) -> int:
    from pdessl.experiment import load_experiment, run_experiment
    from pdessl.overrides import override_experiment, write_effective_config

    config = override_experiment(load_experiment(args.config), args.overrides)
    seeds = _seeds(args.seeds) if args.seeds else None
    workdir = args.workdir or f"runs/{config.name}"
    run_experiment(config, workdir, seeds=seeds, figures=not args.no_figures)
    write_effective_config(workdir, config, args.overrides, source=args.config)
    print(f"results in {workdir}/results.json")
    return 0


def _add_overwrite(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing output file (never one of the inputs)",
    )


def _add_overrides(parser: argparse.ArgumentParser, example: str) -> None:
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help=f"config overrides, dots for nested keys (e.g. {example}); checked "
        "against the config's keys and types",
    )


def _add_timestep_parser(sub) -> None:
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
    _add_overwrite(tst)
    tst.set_defaults(func=_timestep)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pdessl", description=__doc__)
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    sim = sub.add_parser(
        "simulate",
        help="solve a few trajectories from LPSDA sum-of-sines initial conditions",
    )
    sim.add_argument("pde", choices=_PDES)
    sim.add_argument("--num-samples", type=int, default=4)
    sim.add_argument("--nx", type=int, default=128)
    sim.add_argument("--length", type=float, default=64.0)
    sim.add_argument("--t1", type=float, default=20.0)
    sim.add_argument("--num-saves", type=int, default=41)
    sim.add_argument("--discard-first", type=int, default=0)
    sim.add_argument("--steps-per-save", type=int, default=20)
    sim.add_argument("--viscosity", type=float, default=0.01)
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--out", help="optional .npz file for the trajectories")
    _add_overwrite(sim)
    sim.set_defaults(func=_simulate)

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
    gen.add_argument("--shard", type=_parse_shard, default=(0, 1), metavar="I/N")
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
    gen.set_defaults(func=_generate)

    mer = sub.add_parser("merge", help="join the shards of one generation")
    mer.add_argument("shards", nargs="+")
    mer.add_argument("--out", required=True)
    _add_overwrite(mer)
    mer.set_defaults(func=_merge)

    ins = sub.add_parser("inspect", help="dims, ranges, attributes, NaN check")
    ins.add_argument("file")
    ins.set_defaults(func=_inspect)

    plo = sub.add_parser("plot", help="space-time images of a few samples")
    plo.add_argument("file")
    plo.add_argument("--out", required=True)
    plo.add_argument("--num-samples", type=int, default=4)
    plo.add_argument(
        "--compare",
        default=None,
        help="a second file (e.g. from pdessl augment) shown below",
    )
    _add_overwrite(plo)
    plo.set_defaults(func=_plot)

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
    _add_overwrite(imp)
    imp.set_defaults(func=_import)

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
    _add_overwrite(aug)
    aug.set_defaults(func=_augment)

    pre = sub.add_parser(
        "pretrain",
        help="VICReg pretraining with Lie symmetry views",
        description="VICReg pretraining. Resumes from the workdir's last checkpoint. "
        "On SIGTERM or SIGUSR1 it saves a checkpoint at the next step and exits with "
        "code 3 (rerun to resume); errors exit with code 2.",
    )
    pre.add_argument("config", help="a preset (tiny, ns-tiny) or a TOML file")
    _add_overrides(pre, "steps=3000 batch_size=64 symmetries.scaling=0")
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
        type=_parse_nodes_gpus,
        default=None,
        metavar="NODES/GPUS",
        help="submit to SLURM with submitit: one task per GPU, e.g. 2/4",
    )
    pre.add_argument("--slurm-folder", default="slurm_logs")
    pre.add_argument("--slurm-partition", default=None)
    pre.add_argument("--slurm-timeout", type=int, default=240, help="minutes")
    pre.set_defaults(func=_pretrain)
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
    _add_overwrite(pro)
    pro.set_defaults(func=_probe)

    emb = sub.add_parser("embed", help="representations of every trajectory of a file")
    emb.add_argument("encoder", help="an exported encoder.eqx")
    emb.add_argument("data", help="a dataset file (HDF5)")
    emb.add_argument("--out", required=True)
    emb.add_argument("--crops", choices=("mean", "first"), default="mean")
    emb.add_argument(
        "--resample",
        action="store_true",
        help="bring the data onto the encoder's training grid first (Fourier in "
        "space, high-order interpolation in time, refused when inaccurate)",
    )
    emb.add_argument(
        "--no-check-grid",
        action="store_true",
        help="embed data whose grid is off the encoder's by more than a factor 2 "
        "(out of distribution; prefer --resample)",
    )
    _add_overwrite(emb)
    emb.set_defaults(func=_embed)
    exp = sub.add_parser(
        "experiment", help="data, pretraining and evaluation from one TOML file"
    )
    exp.add_argument("config", help="a shipped experiment (quickstart) or a TOML file")
    _add_overrides(exp, "pretrain.steps=3000 regression.labelled=128")
    exp.add_argument("--workdir", default=None, help="default: runs/NAME")
    exp.add_argument("--seeds", default=None, help="override the config's seeds")
    exp.add_argument("--no-figures", action="store_true")
    exp.set_defaults(func=_experiment)

    qs = sub.add_parser(
        "quickstart",
        help="Burgers: generate, pretrain, SSL probe vs supervised (a few minutes)",
    )
    _add_overrides(qs, "pretrain.steps=3000 regression.labelled=128")
    qs.add_argument("--workdir", default="runs/quickstart")
    qs.add_argument("--seeds", default=None)
    qs.add_argument("--no-figures", action="store_true")
    qs.set_defaults(func=_experiment, config="quickstart")

    _add_timestep_parser(sub)
    parser.add_argument("--quiet", action="store_true", help=_QUIET_HELP)
    for command in sub.choices.values():  # also accepted after the command
        command.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP
        )
        command.add_argument(
            "--quiet", action="store_true", default=argparse.SUPPRESS, help=_QUIET_HELP
        )
    return parser


_DEBUG_HELP = "show the full traceback of an error (for bug reports)"
_QUIET_HELP = "no progress bars or per-step log lines (logs, CI)"


def _user_message(err: BaseException) -> str | None:
    """The one-paragraph message for an expected failure (bad input, a file that
    cannot be read or written, a missing optional dependency), or None for an
    unexpected exception, i.e. a bug, which keeps its traceback."""
    if isinstance(err, UnicodeDecodeError):
        return (
            f"a file given as text is binary ({err.reason} at byte {err.start}); "
            "check that each argument names the right kind of file."
        )
    if isinstance(err, (ValueError, ImportError, RuntimeError, FloatingPointError)):
        return str(err)
    if isinstance(err, OSError):
        return describe_os_error(err)
    if isinstance(err, KeyError) and _raised_by_file_library(err):
        return (
            f"a file lacks the entry {err}: it is not in the layout pdessl expects "
            "(a foreign or damaged file). Check the paths; `pdessl inspect FILE` "
            "describes a dataset file."
        )
    return None


def _raised_by_file_library(err: BaseException) -> bool:
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    name = tb.tb_frame.f_code.co_filename if tb is not None else ""
    # h5py's compiled modules report paths like "h5py/h5o.pyx".
    parts = Path(name).parts
    return any(lib in parts[:-1] for lib in ("h5py", "h5netcdf"))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args, extra = parser.parse_known_args(_negative_values_attached(argv))
    if extra and hasattr(args, "overrides") and not any(a[:1] == "-" for a in extra):
        args.overrides = [*args.overrides, *extra]  # KEY=VALUE after an option
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.quiet:
        from pdessl.progress import set_quiet

        set_quiet(True)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        # Outputs are written under temporary names and locks released on the way
        # out: nothing half-written is left under a real name.
        print(f"pdessl {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        message = _user_message(err)
        if message is None or args.debug:
            raise
        # Expected failures name the file and the fix; no traceback for users.
        if not isinstance(err, UserError):
            message += " (--debug shows the traceback)"
        print(f"pdessl {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
