"""A few trajectories of a 1-D PDE from LPSDA sum-of-sines initial conditions, solved
with fixed-step ETDRK4: the library side of `pdessl simulate`."""

import dataclasses
import time

import jax
import numpy as np

from pdessl import pdes, solvers


@dataclasses.dataclass(frozen=True)
class Simulation:
    """Trajectories `u` `(sample, time, x)`, their times `t`, grid points `x`, the
    initial conditions `u0`, per-sample `status` (`solvers.SolveStatus`), the time
    step `dt` and the wall time including compilation."""

    u: np.ndarray
    t: np.ndarray
    x: np.ndarray
    u0: np.ndarray
    status: np.ndarray
    dt: float
    seconds: float


def simulate(
    pde,
    *,
    num_samples: int = 4,
    num_points: int = 128,
    length: float = 64.0,
    t1: float = 20.0,
    num_saves: int = 41,
    discard_first: int = 0,
    steps_per_save: int = 20,
    viscosity: float = 0.01,
    seed: int = 0,
) -> Simulation:
    """Solve `num_samples` trajectories of `pde` (a name or `pdessl.pdes.PDE` of a
    1-D PDE); `viscosity` is the value of every per-sample parameter the PDE has."""
    pde = pdes.get(pde)
    if pde.ndim != 1:
        raise ValueError(
            f"simulate solves 1-D PDEs; {pde.name} is {pde.ndim}-D (use "
            "`pdessl generate` with an ns recipe)."
        )
    if num_samples < 1:
        raise ValueError(f"--num-samples must be >= 1, got {num_samples}.")
    solver = pde.solver({name: viscosity for name in pde.parameters})
    grid = solvers.Grid1d(num_points, length)
    keys = jax.random.split(jax.random.key(seed), num_samples)
    u0 = np.stack([np.asarray(solvers.sample_sine_series(k)(grid)) for k in keys])
    start = time.perf_counter()
    sol = solvers.solve_batch(
        solver,
        grid,
        u0,
        t1,
        num_saves,
        discard_first=discard_first,
        stepping=solvers.FixedStepETDRK4(steps_per_save),
    )
    sol.u.block_until_ready()
    return Simulation(
        u=np.asarray(sol.u),
        t=np.asarray(sol.ts),
        x=np.asarray(grid.x),
        u0=u0,
        status=np.asarray(sol.status),
        dt=t1 / ((num_saves - 1) * steps_per_save),
        seconds=time.perf_counter() - start,
    )
