"""`pdessl simulate`: solve a few trajectories and print a summary."""

import argparse
from pathlib import Path

import numpy as np

from pdessl import pdes
from pdessl.errors import UserError
from pdessl.outputs import atomic_output, check_output

from ._common import add_overwrite


def run(args: argparse.Namespace) -> int:
    from pdessl import solvers
    from pdessl.simulate import simulate

    if args.out:
        if Path(args.out).suffix != ".npz":
            raise UserError(
                f"--out {args.out}: simulate writes a NumPy archive, so the name must "
                "end in .npz (for an HDF5 dataset use `pdessl generate`)."
            )
        check_output(args.out, overwrite=args.overwrite)
    sim = simulate(
        args.pde,
        num_samples=args.num_samples,
        num_points=args.nx,
        length=args.length,
        t1=args.t1,
        num_saves=args.num_saves,
        discard_first=args.discard_first,
        steps_per_save=args.steps_per_save,
        viscosity=args.viscosity,
        seed=args.seed,
    )
    print(
        f"{args.pde}: {args.num_samples} trajectories, nx={args.nx}, L={args.length}, "
        f"T={args.t1}, dt={sim.dt:.4g}, {sim.u.shape[1]} saved frames"
    )
    print(f"wall time {sim.seconds:.2f} s (including compilation)")
    for i, s in enumerate(sim.status):
        name = solvers.SolveStatus(int(s)).name
        if s == solvers.SolveStatus.SUCCESS:
            ui = sim.u[i]
            print(
                f"  sample {i}: {name}, u in [{ui.min():+.3f}, {ui.max():+.3f}], "
                f"mean drift {abs(ui[-1].mean() - sim.u0[i].mean()):.1e}"
            )
        else:
            print(f"  sample {i}: {name}")
    if args.out:
        with atomic_output(args.out) as tmp, open(tmp, "wb") as f:
            # A file object: np.savez would append .npz to a name.
            np.savez(f, u=sim.u, t=sim.t, x=sim.x, status=sim.status)
        print(f"wrote {args.out}")
    return 0 if np.all(sim.status == 0) else 1


def _one_d_pdes() -> tuple[str, ...]:
    return tuple(name for name in pdes.names() if pdes.get(name).ndim == 1)


def add_parser(sub) -> None:
    sim = sub.add_parser(
        "simulate",
        help="solve a few trajectories from LPSDA sum-of-sines initial conditions",
    )
    sim.add_argument("pde", choices=_one_d_pdes())
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
    add_overwrite(sim)
    sim.set_defaults(func=run)
