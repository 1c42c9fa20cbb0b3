"""2-D incompressible Navier–Stokes with buoyancy-driven smoke (PDEArena's smoke
setting): per-sample viscosity nu, smoke diffusivity kappa and buoyancy."""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

from pdessl import solvers, symmetries

from ._descriptor import PDE, register
from ._estimators import ns_buoyancy


def _stepping(recipe):
    if recipe.steps_per_save is not None:
        return solvers.FixedStepETDRK4(recipe.steps_per_save)
    return solvers.Adaptive(rtol=recipe.rtol, atol=recipe.atol, solver=diffrax.Tsit5())


def _sample(pde, recipe, key: jax.Array) -> dict:
    k_hor, k_par, k_ic = jax.random.split(key, 3)
    horizon = recipe.horizon.sample(k_hor)
    par_keys = jax.random.split(k_par, len(recipe.parameters))
    params = {
        name: dist.sample(k)
        for (name, dist), k in zip(recipe.parameters.items(), par_keys, strict=True)
    }
    grid = solvers.Grid2d(
        (recipe.num_points, recipe.num_points_y),
        jnp.stack([recipe.length.sample(k_hor), jnp.asarray(recipe.length_y)]),
    )
    smoke0 = solvers.sample_smoke(
        k_ic,
        grid,
        correlation_length=recipe.initial_condition.correlation_length,
        boundary=recipe.boundary,
    )
    sol = solvers.solve_navier_stokes(
        pde.solver(params),
        grid,
        smoke0,
        horizon,
        recipe.num_saves,
        discard_first=recipe.discard_first,
        stepping=_stepping(recipe),
        boundary=recipe.boundary,
    )
    return dict(
        u=sol.smoke,
        vx=sol.vx,
        vy=sol.vy,
        status=sol.status,
        t0=sol.ts[0],
        dt=horizon / (recipe.num_saves - 1),
        dx=grid.dx,
        dy=grid.dy,
        T=horizon,
        **params,
    )


def _layout(recipe) -> dict:
    out = {"index": (np.int64, ())}
    for name in ("t0", "dt", "dx", "dy", "T", *recipe.parameters):
        out[name] = (np.float64, ())
    return out


NS = register(
    PDE(
        name="ns",
        ndim=2,
        fields=("u", "vx", "vy"),
        view_fields=("vx", "vy"),
        parameters=("nu", "kappa", "buoyancy"),
        view_variables=(),
        generators=lambda: (
            symmetries.TimeShift(0.0),
            symmetries.SpaceShift(1.0, axis="x"),
            symmetries.SpaceShift(1.0, axis="y"),
            symmetries.NSScaling(0.1),
            symmetries.Rotation(0.1),
            symmetries.LinearBoost(0.01, axis="x"),
            symmetries.LinearBoost(0.01, axis="y"),
            symmetries.QuadraticBoost(0.01, axis="x"),
            symmetries.QuadraticBoost(0.01, axis="y"),
        ),
        # On the periodic domain the buoyancy is kept by shifts, boosts and the
        # scaling (the smoke, not an input, absorbs it); rotation is left out
        # (gravity breaks it).
        keeps={"*": ("space_shift", "scaling", "linear_boost", "quadratic_boost")},
        solver=lambda params: solvers.NavierStokes2d(
            params["nu"], params["kappa"], params["buoyancy"]
        ),
        sample=_sample,
        layout=_layout,
        estimators={"buoyancy": ns_buoyancy},
        boundaries=("periodic", "free-slip"),
        adaptive=True,
    )
)
