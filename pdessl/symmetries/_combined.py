"""The Galilean boost of the combined equation
$u_t + \\partial_x(\\alpha u^2 - \\beta u_x + \\gamma u_{xx}) = 0$
(`pdessl.solvers._combined.Combined`).

Written out, the equation is $u_t + 2\\alpha u u_x - \\beta u_{xx} + \\gamma u_{xxx}
= 0$. Try $\\tilde u(t, x) = u(t, x - c\\epsilon t) + \\epsilon$: then
$\\tilde u_t = u_t - c\\epsilon u_x$ and $2\\alpha \\tilde u \\tilde u_x =
2\\alpha u u_x + 2\\alpha\\epsilon u_x$, while the linear terms are unchanged. The extra
terms cancel exactly when $c = 2\\alpha$, so the point map
$(t, x, u) \\mapsto (t, x + 2\\alpha\\epsilon t, u + \\epsilon)$ is a symmetry for any
$\\beta$ and $\\gamma$. At $\\alpha = \\tfrac12$ (Burgers, this package's KdV) it is
`GalileanBoost`; at $\\alpha = 0$ (a linear equation) it adds a constant.

The combined equation has no scaling symmetry with fixed coefficients once both
$\\beta$ and $\\gamma$ are nonzero ($u_{xx}$ and $u_{xxx}$ scale differently in $x$),
so its generators are the time shift, the space shift and this boost.
"""

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from ._fields import fourier_shift
from ._generators import GalileanBoost


class CombinedGalileanBoost(GalileanBoost):
    """$(t, x, u) \\mapsto (t, x + 2\\alpha\\epsilon t, u + \\epsilon)$, with the
    sample's $\\alpha$ read from the point's `alpha` (coordinate action) or from
    `GridField1d.params["alpha"]` (regridded action). `alpha` may be a traced
    per-sample scalar, so a `vmap` over samples with different $\\alpha$ compiles
    once."""

    needs: ClassVar[tuple[str, ...]] = ("alpha",)

    @staticmethod
    def _velocity(p) -> jnp.ndarray:
        if "alpha" not in p:
            raise KeyError(
                "the combined equation's Galilean boost needs the sample's 'alpha' "
                f"(in the point, or in GridField1d.params); got keys {sorted(p)}."
            )
        return 2 * jnp.asarray(p["alpha"])

    def act(self, eps, p):
        return {"x": p["x"] + eps * self._velocity(p) * p["t"], "u": p["u"] + eps}

    def regrid1d(self, eps, field, crop_time=None):
        shift = self._velocity(field.params) * eps * field.t
        shifted = fourier_shift(field.u, shift, field.length)
        return eqx.tree_at(lambda f: f.u, field, shifted + eps)
