"""The heat equation u_t = nu u_xx (Burgers' Cole–Hopf image), per-sample nu."""

from pdessl import solvers, symmetries

from . import _one_d
from ._descriptor import PDE, register

HEAT = register(
    PDE(
        name="heat",
        ndim=1,
        fields=("u",),
        view_fields=("u",),
        parameters=("nu",),
        generators=lambda: (
            symmetries.TimeShift(0.0),
            symmetries.SpaceShift(0.5),
        ),
        keeps={"*": ("space_shift",)},
        solver=lambda params: solvers.Heat(params["nu"]),
        sample=_one_d.sample,
        layout=_one_d.layout,
    )
)
