"""PDE descriptors: one typed object per PDE (`PDE`), registered once by the module
that defines it, so that adding a PDE means a solver, a descriptor module here and
(where it has new ones) its symmetry generators — no branch on PDE names elsewhere.

`get("burgers")` returns a descriptor; `names()` lists the registered ones.
"""

from ._descriptor import PDE as PDE
from ._descriptor import UnknownPDE as UnknownPDE
from ._descriptor import get as get
from ._descriptor import names as names
from ._descriptor import register as register


def default_generators(pde, **strengths):
    """The symmetry generators of `pde` (a name or a `PDE`) with default strengths
    (see `PDE.default_generators`)."""
    return get(pde).default_generators(**strengths)


def default_augmentation(pde, *, trotter_order=2, trotter_steps=2, **strengths):
    """`Augmentation` of `pde`'s default generators (see `PDE.default_augmentation`)."""
    return get(pde).default_augmentation(
        trotter_order=trotter_order, trotter_steps=trotter_steps, **strengths
    )
