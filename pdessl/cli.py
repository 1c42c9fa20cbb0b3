"""The `pdessl` command. It parses arguments and calls library functions."""

import argparse
import sys
import time

import numpy as np

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
        np.savez(
            args.out, u=u, t=np.asarray(sol.ts), x=np.asarray(grid.x), status=status
        )
        print(f"wrote {args.out}")
    return 0 if np.all(status == 0) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pdessl", description=__doc__)
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
    sim.set_defaults(func=_simulate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as err:
        print(f"pdessl {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
