"""Random compositions of symmetry generators: sampling, Lie–Trotter products, and
application to coordinate channels.

`Augmentation.sample(key)` draws one strength per generator; `apply(eps, point)` is
deterministic. The paper composes generators through a Lie–Trotter product
approximating $\\exp(\\sum_i \\epsilon_i X_i)$:

- order 1: $(\\prod_i e^{\\epsilon_i X_i / n})^n$;
- order 2 (Strang): $(\\prod_i e^{\\epsilon_i X_i / 2n} \\prod_{i\\,\\mathrm{reversed}}
  e^{\\epsilon_i X_i / 2n})^n$;
- order 4: Yoshida's triple jump of the order-2 step,
  $S_2(w_1 h) S_2(w_0 h) S_2(w_1 h)$, $w_1 = 1/(2 - 2^{1/3})$, $w_0 = 1 - 2 w_1$.

Each factor is an exact group element, so any product is an exact symmetry: the order
only controls how close the product is to the exponential of the summed generator.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ._generators import AbstractGenerator, Point, SpaceShift
from ._regrid import GridField1d, NotRegriddableError, regrid

_W1 = 1.0 / (2.0 - 2.0 ** (1.0 / 3.0))
_W0 = 1.0 - 2.0 * _W1


class Augmentation(eqx.Module):
    """A set of generators with sampling strengths and a Lie–Trotter product.

    **Arguments:**

    - `generators`: the generators, each carrying its `strength`.
    - `trotter_order`: 1, 2 or 4.
    - `trotter_steps`: the number $n$ of repetitions.
    """

    generators: tuple[AbstractGenerator, ...]
    trotter_order: int = eqx.field(static=True, default=2)
    trotter_steps: int = eqx.field(static=True, default=2)

    def __check_init__(self):
        if self.trotter_order not in (1, 2, 4):
            raise ValueError(
                f"trotter_order must be 1, 2 or 4, got {self.trotter_order}."
            )
        if self.trotter_steps < 1:
            raise ValueError(f"trotter_steps must be >= 1, got {self.trotter_steps}.")
        names = [g.name + getattr(g, "axis", "") for g in self.generators]
        if len(set(names)) != len(names):
            raise ValueError(f"each generator may appear once, got {names}.")

    @property
    def needs(self) -> tuple[str, ...]:
        """Per-sample values (besides coordinates, fields and lengths) that the
        generators read from the points, e.g. a PDE parameter."""
        return tuple(sorted({n for g in self.generators for n in g.needs}))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(
            g.name + (f"_{g.axis}" if hasattr(g, "axis") else "")
            for g in self.generators
        )

    def sample(self, key: PRNGKeyArray) -> Float[Array, " generators"]:
        """One strength per generator: $U(-s, s)$, or $U(0, s)$ for one-sided ones."""
        u = jax.random.uniform(key, (len(self.generators),))
        lo = jnp.array([0.0 if g.one_sided else -g.strength for g in self.generators])
        hi = jnp.array([g.strength for g in self.generators])
        return lo + (hi - lo) * u

    def _strang(self, eps, p: Point, h: float) -> Point:
        for g, e in zip(self.generators, eps, strict=True):
            p = g(e * h / 2, p)
        for g, e in zip(reversed(self.generators), eps[::-1], strict=True):
            p = g(e * h / 2, p)
        return p

    def apply(self, eps: Float[ArrayLike, " generators"], point: Point) -> Point:
        """The Lie–Trotter product with strengths `eps` applied to every point."""
        eps = jnp.asarray(eps)
        if eps.shape != (len(self.generators),):
            raise ValueError(
                f"eps must have shape ({len(self.generators)},), got {eps.shape}."
            )
        eps = eqx.error_if(
            eps, ~jnp.all(jnp.isfinite(eps)), "non-finite symmetry strength eps"
        )
        h = 1.0 / self.trotter_steps
        p = dict(point)
        for _ in range(self.trotter_steps):
            if self.trotter_order == 1:
                for g, e in zip(self.generators, eps, strict=True):
                    p = g(e * h, p)
            elif self.trotter_order == 2:
                p = self._strang(eps, p, h)
            else:
                for w in (_W1, _W0, _W1):
                    p = self._strang(eps, p, w * h)
        return p

    def apply_regridded(
        self,
        eps: Float[ArrayLike, " generators"],
        field: GridField1d,
        crop_time: int | None = None,
    ) -> GridField1d:
        """Each generator once, in order, on a field kept on a uniform grid (exact;
        see `regrid`). Refuses generators without an exact regridded form. Time shifts
        crop to `crop_time` frames."""
        for g in self.generators:
            if not g.regriddable:
                raise NotRegriddableError(
                    f"{g.name} cannot be applied on the grid exactly; drop it or use "
                    "the coordinate-channel form."
                )
        eps = jnp.asarray(eps)
        # A negative time shift would be clipped to none by `regrid`: refuse it.
        one_sided = jnp.array([g.one_sided for g in self.generators])
        eps = eqx.error_if(
            eps,
            ~jnp.all(jnp.isfinite(eps)) | jnp.any(one_sided & (eps < 0)),
            "symmetry strengths must be finite, and >= 0 for time shifts",
        )
        for g, e in zip(self.generators, eps, strict=True):
            field = regrid(g, e, field, crop_time)
        return field


def identity_augmentation() -> Augmentation:
    """The identity map as an `Augmentation` (one zero-strength space shift), for
    unaugmented views built by the same code as augmented ones."""
    return Augmentation((SpaceShift(0.0),), 1, 1)


def grid_points(u: Float[Array, "time x"], t0, dt, dx, length=None) -> Point:
    """The points $(t_i, x_j, u_{ij})$ of a 1-D trajectory on its grid."""
    nt, nx = u.shape
    t = t0 + dt * jnp.arange(nt, dtype=jnp.result_type(dt))
    x = dx * jnp.arange(nx, dtype=jnp.result_type(dx))
    tt, xx = jnp.meshgrid(t, x, indexing="ij")
    return {"t": tt, "x": xx, "u": u, "L": nx * dx if length is None else length}


def coordinate_channels(point: Point, keys=("t", "x", "u")) -> Float[Array, "c ..."]:
    """Stack transformed coordinates and values as channels, the paper's network input."""
    return jnp.stack([point[k] for k in keys])
