"""Korteweg–de Vries, u_t + 6 u u_x + u_xxx = 0 (LPSDA's setting)."""

from pdessl import solvers, symmetries

from . import _one_d
from ._descriptor import PDE, register

KDV = register(
    PDE(
        name="kdv",
        ndim=1,
        fields=("u",),
        view_fields=("u",),
        parameters=(),
        generators=lambda: (
            symmetries.TimeShift(0.0),
            symmetries.SpaceShift(0.5),
            symmetries.GalileanBoost(0.4),
            symmetries.Scaling(0.1, exponents=(3, 1, -2)),
        ),
        keeps={"*": _one_d.SPECTRUM_KEEPERS},
        solver=lambda params: solvers.KortewegDeVries(),
        sample=_one_d.sample,
        layout=_one_d.layout,
    )
)
