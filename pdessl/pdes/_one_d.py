"""Drawing and solving one sample of a 1-D periodic PDE from a recipe: a random sine
series initial condition, fixed-step ETDRK4. Shared by every 1-D descriptor."""

import jax
import numpy as np

from pdessl import solvers


def sample(pde, recipe, key: jax.Array) -> dict:
    k_len, k_hor, k_par, k_ic = jax.random.split(key, 4)
    length = recipe.length.sample(k_len)
    horizon = recipe.horizon.sample(k_hor)
    par_keys = jax.random.split(k_par, max(len(recipe.parameters), 1))
    params = {
        name: dist.sample(k)
        for (name, dist), k in zip(recipe.parameters.items(), par_keys, strict=False)
    }
    ic = recipe.initial_condition
    series = solvers.sample_sine_series(
        k_ic,
        num_modes=ic.num_modes,
        max_amplitude=ic.max_amplitude,
        min_wavenumber=ic.min_wavenumber,
        max_wavenumber=ic.max_wavenumber,
    )
    grid = solvers.Grid1d(recipe.num_points, length)
    sol = solvers.solve(
        pde.solver(params),
        grid,
        series(grid),
        horizon,
        recipe.num_saves,
        discard_first=recipe.discard_first,
        stepping=solvers.FixedStepETDRK4(recipe.steps_per_save),
    )
    dt = horizon / (recipe.num_saves - 1)
    return dict(
        u=sol.u,
        status=sol.status,
        t0=sol.ts[0],
        dt=dt,
        dx=grid.dx,
        L=length,
        T=horizon,
        **params,
        ic_amplitude=series.amplitudes,
        ic_wavenumber=series.wavenumbers,
        ic_phase=series.phases,
    )


def layout(recipe) -> dict:
    modes = (recipe.initial_condition.num_modes,)
    out = {
        "index": (np.int64, ()),
        "t0": (np.float64, ()),
        "dt": (np.float64, ()),
        "dx": (np.float64, ()),
        "L": (np.float64, ()),
        "T": (np.float64, ()),
        "ic_amplitude": (np.float64, modes),
        "ic_wavenumber": (np.int64, modes),
        "ic_phase": (np.float64, modes),
    }
    out.update({name: (np.float64, ()) for name in recipe.parameters})
    return out


# Generators that leave the initial condition's Fourier magnitudes unchanged (a
# space shift changes phases, a Galilean boost adds a constant); targets read from the
# IC (the spectrum regressions) are kept by these.
SPECTRUM_KEEPERS = ("space_shift", "galilean_boost")
