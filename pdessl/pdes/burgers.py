"""Viscous Burgers, u_t + u u_x = nu u_xx, with a per-sample viscosity nu."""

from pdessl import solvers, symmetries

from . import _one_d
from ._descriptor import PDE, register
from ._estimators import burgers_viscosity
from ._resolution import check_burgers_resolution

BURGERS = register(
    PDE(
        name="burgers",
        ndim=1,
        fields=("u",),
        view_fields=("u",),
        parameters=("nu",),
        generators=lambda: (
            symmetries.TimeShift(0.0),
            symmetries.SpaceShift(0.5),
            symmetries.GalileanBoost(0.4),
            symmetries.Scaling(0.1, exponents=(2, 1, -1)),
            symmetries.Projective(0.01),
        ),
        # The viscosity is invariant under every Burgers symmetry (the projective
        # map is left out, as in pretraining: it needs 1 - e t > 0 on the crop).
        keeps={
            "nu": ("space_shift", "galilean_boost", "scaling"),
            "*": _one_d.SPECTRUM_KEEPERS,
        },
        solver=lambda params: solvers.Burgers(params["nu"]),
        sample=_one_d.sample,
        layout=_one_d.layout,
        estimators={"nu": burgers_viscosity},
        check_recipe=check_burgers_resolution,
    )
)
