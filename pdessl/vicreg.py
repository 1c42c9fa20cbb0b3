r"""The VICReg loss (Bardes, Ponce & LeCun, ICLR 2022), as used by Mialon et al. 2023.

For two batches of projections $Z, Z' \in \mathbb{R}^{N \times D}$:

- invariance: $\frac{1}{ND}\sum_{n,d} (Z_{nd} - Z'_{nd})^2$;
- variance: $\frac{1}{2D}\sum_d [\max(0, 1 - \sigma_d(Z)) + \max(0, 1 - \sigma_d(Z'))]$
  with $\sigma_d = \sqrt{\mathrm{Var}_n(Z_{nd}) + \epsilon}$ (unbiased variance);
- covariance: $\frac{1}{D}\sum_{d \ne d'} C_{dd'}(Z)^2 + \frac{1}{D}\sum_{d \ne d'}
  C_{dd'}(Z')^2$, $C = \frac{1}{N-1}(Z - \bar Z)^\top (Z - \bar Z)$;

total $= \lambda \cdot\mathrm{inv} + \mu \cdot\mathrm{var} + \nu \cdot\mathrm{cov}$ with
defaults 25, 25, 1. The batch statistics are over the *global* batch: under `jit` with
a sharded batch axis the reductions below are global already (XLA inserts the
collectives); inside `shard_map`/`pmap` pass the mapped `axis_name`.
"""

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float


def _mean(x, axis_name):
    m = jnp.mean(x, axis=0)
    return m if axis_name is None else jax.lax.pmean(m, axis_name)


def _batch_size(z, axis_name):
    n = z.shape[0]
    return n if axis_name is None else jax.lax.psum(n, axis_name)


def vicreg_loss(
    z1: Float[Array, "batch dim"],
    z2: Float[Array, "batch dim"],
    *,
    sim_coeff: float = 25.0,
    std_coeff: float = 25.0,
    cov_coeff: float = 1.0,
    eps: float = 1e-4,
    axis_name: str | None = None,
) -> tuple[Float[Array, ""], dict[str, Float[Array, ""]]]:
    """VICReg loss of two views' projections. Returns `(total, terms)` with `terms`
    holding `invariance`, `variance`, `covariance` (unweighted)."""
    if z1.shape != z2.shape or z1.ndim != 2:
        raise ValueError(
            f"z1 and z2 must be (batch, dim) of one shape, got {z1.shape}, {z2.shape}."
        )
    if z1.shape[0] < 2 and axis_name is None:
        raise ValueError("VICReg needs a batch of at least 2 (variance, covariance).")
    dim = z1.shape[1]
    invariance = _mean(jnp.mean((z1 - z2) ** 2, axis=1), axis_name)
    n = _batch_size(z1, axis_name)

    def var_cov(z):
        centred = z - _mean(z, axis_name)[None, :]
        # Unbiased second moments: sum over the global batch / (N - 1).
        second = (
            _mean(centred[:, :, None] * centred[:, None, :], axis_name) * n / (n - 1)
        )
        std = jnp.sqrt(jnp.diagonal(second) + eps)
        variance = jnp.mean(jax.nn.relu(1.0 - std))
        off_diagonal = second - jnp.diag(jnp.diagonal(second))
        return variance, jnp.sum(off_diagonal**2) / dim

    v1, c1 = var_cov(z1)
    v2, c2 = var_cov(z2)
    terms = {
        "invariance": invariance,
        "variance": (v1 + v2) / 2,
        "covariance": c1 + c2,
    }
    total = (
        sim_coeff * terms["invariance"]
        + std_coeff * terms["variance"]
        + cov_coeff * terms["covariance"]
    )
    return total, terms
