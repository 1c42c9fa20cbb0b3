"""Each PDE's symmetry generators with default strengths (PAPER.md).

Strengths: LPSDA's for the 1-D PDEs (space shift 1.0 domain length drawn as
U(-s/2, s/2) in LPSDA — here U(-s, s) of a fraction, so s = 0.5 —, Galilean 0.4,
scaling 0.1); the official NS defaults (x and y shifts 1.0, scaling 0.1, rotation 0.1,
linear and quadratic boosts 0.01, time 0). Values the paper does not give (1-D time
shifts, Burgers' projective strength) are conservative choices, overridable.
"""

from ._compose import Augmentation
from ._generators import (
    AbstractGenerator,
    GalileanBoost,
    LinearBoost,
    NSScaling,
    Projective,
    QuadraticBoost,
    Rotation,
    Scaling,
    SpaceShift,
    TimeShift,
)

PDES = ("ks", "kdv", "burgers", "ns")


def default_generators(
    pde: str, **strengths: float | int
) -> tuple[AbstractGenerator, ...]:
    """The generators of `pde` with default strengths; pass `name=value` (names as in
    `Augmentation.names`, e.g. `galilean_boost=0.2`, `space_shift_x=0.5`) to override,
    or 0 to disable (a zero-strength generator is dropped)."""
    if pde == "ks":
        gens = [TimeShift(0.0), SpaceShift(0.5), GalileanBoost(0.4)]
    elif pde == "kdv":
        gens = [
            TimeShift(0.0),
            SpaceShift(0.5),
            GalileanBoost(0.4),
            Scaling(0.1, exponents=(3, 1, -2)),
        ]
    elif pde == "burgers":
        gens = [
            TimeShift(0.0),
            SpaceShift(0.5),
            GalileanBoost(0.4),
            Scaling(0.1, exponents=(2, 1, -1)),
            Projective(0.01),
        ]
    elif pde == "ns":
        gens = [
            TimeShift(0.0),
            SpaceShift(1.0, axis="x"),
            SpaceShift(1.0, axis="y"),
            NSScaling(0.1),
            Rotation(0.1),
            LinearBoost(0.01, axis="x"),
            LinearBoost(0.01, axis="y"),
            QuadraticBoost(0.01, axis="x"),
            QuadraticBoost(0.01, axis="y"),
        ]
    else:
        raise ValueError(f"unknown PDE {pde!r}; known: {', '.join(PDES)}.")

    def full_name(g):
        return g.name + (f"_{g.axis}" if hasattr(g, "axis") else "")

    names = {full_name(g) for g in gens}
    unknown = set(strengths) - names
    if unknown:
        raise ValueError(
            f"unknown generator(s) {sorted(unknown)} for {pde}; it has {sorted(names)}."
        )
    out = []
    for g in gens:
        s = strengths.get(full_name(g), g.strength)
        if s < 0:
            raise ValueError(f"strength of {full_name(g)} must be >= 0, got {s}.")
        if s > 0:
            kwargs = {"axis": g.axis} if hasattr(g, "axis") else {}
            if isinstance(g, Scaling):
                kwargs["exponents"] = g.exponents
            out.append(type(g)(s, **kwargs))
    return tuple(out)


def default_augmentation(
    pde: str,
    *,
    trotter_order: int = 2,
    trotter_steps: int = 2,
    **strengths: float | int,
) -> Augmentation:
    """`Augmentation` of `pde`'s generators (official default: Lie–Trotter order 2,
    2 steps)."""
    return Augmentation(
        default_generators(pde, **strengths), trotter_order, trotter_steps
    )
