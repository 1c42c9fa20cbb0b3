"""A Lineax linear solver for operators that are diagonal in Fourier space.

Implicit Diffrax solvers (KenCarp, Kvaerno) solve $(I - c\\,h\\,J)\\,x = b$ at every
stage, where $J$ is the Jacobian of the implicit term. By default Lineax materialises
$J$ as a dense $n \\times n$ matrix and LU-factorises it: $O(n^3)$ per step for what is,
on a spectral state, a diagonal system. Here the implicit term is $\\Lambda y$ with
$\\Lambda$ complex-diagonal, stored as `(real, imag)` stacked along a leading axis, so
the operator acts on each mode as multiplication by a complex number $a + ib$. One
matrix-vector product with the probe `(1, 0)` reads off `(a, b)` for every mode, and the
solve is a complex division.
"""

from typing import Any

import jax.numpy as jnp
import lineax as lx

from ._terms import pack, unpack


class SpectralDiagonal(lx.AbstractLinearSolver):
    """Solve operators of the form "multiply each Fourier mode by a complex number".

    The operator must map the packed state `(2, *modes)` to itself and act mode-wise as
    complex multiplication; this holds for $I - c\\,h\\,\\Lambda$ with
    `DiagonalLinearField` and is not checked (a dense check would defeat the purpose).
    """

    def init(self, operator: lx.AbstractLinearOperator, options: dict[str, Any]):
        del options
        struct = operator.in_structure()
        if (
            not hasattr(struct, "shape")
            or len(struct.shape) < 2
            or struct.shape[0] != 2
        ):
            raise ValueError(
                "SpectralDiagonal solves for a packed spectral state of shape "
                f"(2, *modes), got the structure {struct}. Use it only as the linear "
                "solver of an IMEX method whose implicit term is DiagonalLinearField."
            )
        probe = jnp.zeros(struct.shape, struct.dtype).at[0].set(1.0)
        return unpack(operator.mv(probe))

    def compute(self, state, vector, options):
        del options
        return pack(unpack(vector) / state), lx.RESULTS.successful, {}

    def transpose(self, state, options):
        # The real form of multiplication by (a + ib) is [[a, -b], [b, a]] per mode;
        # its transpose is multiplication by the conjugate.
        return jnp.conj(state), options

    def conj(self, state, options):
        # The operator is real, so conjugation leaves it unchanged.
        return state, options

    def assume_full_rank(self) -> bool:
        return True
