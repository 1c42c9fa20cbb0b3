"""The PDE descriptor: one object per PDE holding what the layers above the solvers
need to know about it, so that no library code branches on a PDE's name.

A descriptor is registered once, by the module that defines it (one module per PDE in
this package, found by `names()`/`get()` on first use). Names turn into descriptors
only where text is parsed: the CLI, recipes and configuration files.
"""

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from typing import Any

from pdessl.errors import UserError
from pdessl.symmetries import AbstractGenerator, Augmentation


class UnknownPDE(UserError, ValueError):
    """A PDE name that no descriptor is registered under."""


def _no_check(recipe) -> None:
    return None


@dataclasses.dataclass(frozen=True, eq=False)
class PDE:
    """Everything the library needs to know about one PDE.

    - `name`: the name in recipes, configs and file headers.
    - `ndim`: spatial dimensions (1 or 2).
    - `fields`: the fields a dataset stores, first the one called `u` in files.
    - `view_fields`: the fields a pretraining view is built from (NS: the velocity).
    - `parameters`: per-sample physical parameters, as named in recipes and files.
    - `view_variables`: per-sample values a view's symmetries need besides the grid
      (the domain length for 1-D space shifts; CE's alpha for its boost).
    - `generators`: the default symmetry generators with default strengths.
    - `keeps`: for each regression target, the generator names that leave it
      unchanged (used to augment the supervised baseline); key `"*"` for any other.
    - `solver`: builds the solver (an `eqx.Module` PDE of `pdessl.solvers`) from a
      dict of per-sample parameters.
    - `sample`: draws one sample of a recipe and solves it: `sample(pde, recipe,
      key) -> dict` of arrays (fields, status, grid values, parameters, IC data).
    - `layout`: the per-sample variables a dataset file stores, `layout(recipe) ->
      {name: (dtype, shape)}`.
    - `estimators`: physics estimators by target, `estimator(ds) -> per-sample`.
    - `check_recipe`: raises ValueError for recipes this PDE cannot solve well.
    - `boundaries`: the boundary conditions its recipes may ask for.
    - `adaptive`: whether recipes may use adaptive time stepping (rtol/atol).
    """

    name: str
    ndim: int
    fields: tuple[str, ...]
    view_fields: tuple[str, ...]
    parameters: tuple[str, ...]
    generators: Callable[[], tuple[AbstractGenerator, ...]]
    keeps: Mapping[str, tuple[str, ...]]
    solver: Callable[[Mapping[str, Any]], Any]
    sample: Callable[..., dict]
    layout: Callable[[Any], dict]
    view_variables: tuple[str, ...] = ("L",)
    estimators: Mapping[str, Callable] = dataclasses.field(default_factory=dict)
    check_recipe: Callable[[Any], None] = _no_check
    boundaries: tuple[str, ...] = ("periodic",)
    adaptive: bool = False

    def __repr__(self) -> str:
        return f"PDE({self.name!r})"

    def in_channels(self, crop_time: int) -> int:
        """Encoder input channels: (t, x, u) for a 1-D PDE, a space-time image; for a
        2-D PDE (x, y, t, fields...) per frame, frames stacked."""
        if self.ndim == 1:
            return 2 + len(self.view_fields)
        return (self.ndim + 1 + len(self.view_fields)) * crop_time

    def loader_variables(self) -> tuple[str, ...]:
        """Per-sample variables a crop loader must carry for this PDE's views."""
        return self.view_variables

    def generators_keeping(self, target: str) -> tuple[str, ...]:
        return self.keeps.get(target, self.keeps["*"])

    def default_generators(self, **strengths: float | int):
        """The generators with default strengths; `name=value` overrides one (names
        as in `Augmentation.names`, e.g. `galilean_boost=0.2`, `space_shift_x=0.5`),
        0 drops it."""
        return with_strengths(self.generators(), self.name, **strengths)

    def default_augmentation(
        self, *, trotter_order: int = 2, trotter_steps: int = 2, **strengths
    ) -> Augmentation:
        """`Augmentation` of the default generators (official default: Lie–Trotter
        order 2, 2 steps)."""
        return Augmentation(
            self.default_generators(**strengths), trotter_order, trotter_steps
        )


def full_name(g: AbstractGenerator) -> str:
    return g.name + (f"_{g.axis}" if hasattr(g, "axis") else "")


def with_strengths(gens, pde_name: str, **strengths: float | int):
    names = {full_name(g) for g in gens}
    unknown = set(strengths) - names
    if unknown:
        raise ValueError(
            f"unknown generator(s) {sorted(unknown)} for {pde_name}; it has "
            f"{sorted(names)}."
        )
    out = []
    for g in gens:
        s = strengths.get(full_name(g), g.strength)
        if s < 0:
            raise ValueError(f"strength of {full_name(g)} must be >= 0, got {s}.")
        if s > 0:
            out.append(dataclasses.replace(g, strength=s))
    return tuple(out)


_REGISTRY: dict[str, PDE] = {}
_DISCOVERED = False


def register(pde: PDE) -> PDE:
    """Add a descriptor to the registry (called once, by its defining module)."""
    if pde.name in _REGISTRY and _REGISTRY[pde.name] is not pde:
        raise ValueError(f"a PDE named {pde.name!r} is already registered.")
    _REGISTRY[pde.name] = pde
    return pde


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    from pdessl import pdes

    for info in pkgutil.iter_modules(pdes.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"pdessl.pdes.{info.name}")
    _DISCOVERED = True


def names() -> tuple[str, ...]:
    """The registered PDE names, in sorted order."""
    _discover()
    return tuple(sorted(_REGISTRY))


def get(pde: "str | PDE") -> PDE:
    """The descriptor of `pde` (a descriptor passes through)."""
    if isinstance(pde, PDE):
        return pde
    _discover()
    try:
        return _REGISTRY[pde]
    except (KeyError, TypeError):
        raise UnknownPDE(f"unknown PDE {pde!r}; known: {', '.join(names())}.") from None
