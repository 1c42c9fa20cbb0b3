"""Kuramoto–Sivashinsky, u_t + u u_x + u_xx + u_xxxx = 0 (LPSDA's setting)."""

from pdessl import solvers, symmetries

from . import _one_d
from ._descriptor import PDE, register

KS = register(
    PDE(
        name="ks",
        ndim=1,
        fields=("u",),
        view_fields=("u",),
        parameters=(),
        generators=lambda: (
            symmetries.TimeShift(0.0),
            symmetries.SpaceShift(0.5),
            symmetries.GalileanBoost(0.4),
        ),
        keeps={"*": _one_d.SPECTRUM_KEEPERS},
        solver=lambda params: solvers.KuramotoSivashinsky(),
        sample=_one_d.sample,
        layout=_one_d.layout,
    )
)
