"""Dataset recipes: TOML files naming a PDE, its parameter distributions, grid, horizon,
saved frames, solver settings and split sizes.

Shipped recipes are addressed by name (`ks`, `kdv-tiny`, ...); any other argument is
read as a path. Every key is checked: a typo is an error, not a silent default.
"""

import dataclasses
import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from pdessl import pdes
from pdessl.errors import UserError
from pdessl.tomlfile import check_keys, read_toml_text, shipped_tomls

from ._memory import check_memory


class RecipeError(UserError):
    """A recipe that cannot be used, with the reason and the fix."""


@dataclasses.dataclass(frozen=True)
class Distribution:
    """A scalar drawn per sample: a constant, `uniform` or `log_uniform` on [low, high]."""

    kind: str  # "constant" | "uniform" | "log_uniform"
    low: float
    high: float

    @classmethod
    def parse(cls, name: str, value: Any) -> "Distribution":
        if isinstance(value, int | float) and not isinstance(value, bool):
            v = float(value)
            if not math.isfinite(v):
                raise RecipeError(f"{name} must be finite, got {value!r}.")
            return cls("constant", v, v)
        if isinstance(value, dict) and len(value) == 1:
            ((kind, bounds),) = value.items()
            if kind in ("uniform", "log_uniform"):
                if (
                    not isinstance(bounds, list)
                    or len(bounds) != 2
                    or not all(isinstance(b, int | float) for b in bounds)
                ):
                    raise RecipeError(
                        f"{name}: {kind} needs two numbers [low, high], got {bounds!r}."
                    )
                low, high = map(float, bounds)
                if not (math.isfinite(low) and math.isfinite(high) and low <= high):
                    raise RecipeError(f"{name}: need finite low <= high, got {bounds}.")
                if kind == "log_uniform" and low <= 0:
                    raise RecipeError(f"{name}: log_uniform needs low > 0, got {low}.")
                return cls(kind, low, high)
        raise RecipeError(
            f"{name} must be a number, {{ uniform = [low, high] }} or "
            f"{{ log_uniform = [low, high] }}; got {value!r}."
        )

    def sample(self, key) -> jax.Array:
        u = jax.random.uniform(key, dtype=float)
        if self.kind == "constant":
            return jnp.asarray(self.low, dtype=float)
        if self.kind == "uniform":
            return self.low + (self.high - self.low) * u
        return jnp.exp(
            math.log(self.low) + (math.log(self.high) - math.log(self.low)) * u
        )

    def to_toml_value(self) -> Any:
        if self.kind == "constant":
            return self.low
        return {self.kind: [self.low, self.high]}


@dataclasses.dataclass(frozen=True)
class SineSeriesIC:
    num_modes: int = 10
    max_amplitude: float = 0.5
    min_wavenumber: int = 1
    max_wavenumber: int = 3


@dataclasses.dataclass(frozen=True)
class SmokeIC:
    """Smooth random smoke in [0, 1] (`pdessl.solvers.sample_smoke`), fluid at rest."""

    correlation_length: float = 2.0


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A parsed, validated recipe. `source` keeps the TOML text it came from."""

    name: str
    description: str
    pde: str
    num_points: int
    length: Distribution
    horizon: Distribution
    num_saves: int
    keep_last: int
    parameters: dict[str, Distribution]
    initial_condition: SineSeriesIC | SmokeIC
    steps_per_save: int | None
    splits: dict[str, int]
    source: str
    # 2-D (Navier–Stokes) recipes: points and length along y; adaptive tolerances.
    num_points_y: int | None = None
    length_y: float | None = None
    rtol: float | None = None
    atol: float | None = None
    # Navier–Stokes domain: "periodic" or "free-slip" (closed box, cell-centred grid).
    boundary: str = "periodic"

    @property
    def space_shape(self) -> tuple[int, ...]:
        if self.num_points_y is None:
            return (self.num_points,)
        return (self.num_points, self.num_points_y)

    def __hash__(self) -> int:
        # Dict fields make the generated hash fail; the source text and name determine
        # every field, so they determine the hash.
        return hash((self.name, self.source))

    @property
    def discard_first(self) -> int:
        return self.num_saves - self.keep_last

    def split_size(self, split: str) -> int:
        if split not in self.splits:
            raise RecipeError(
                f"recipe {self.name!r} has no split {split!r}; it defines "
                f"{', '.join(self.splits)}."
            )
        return self.splits[split]


def _take(table: dict, section: str, allowed: dict[str, bool]) -> dict:
    """Check a TOML table's keys: `allowed` maps each key to whether it is required."""
    if not isinstance(table, dict):
        raise RecipeError(f"[{section}] must be a table.")
    try:
        check_keys(table, allowed, f"[{section}]: unknown key(s)")
    except UserError as err:
        raise RecipeError(str(err)) from None
    missing = [k for k, required in allowed.items() if required and k not in table]
    if missing:
        raise RecipeError(f"missing key(s) {missing} in [{section}].")
    return table


def _positive_int(name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise RecipeError(f"{name} must be a positive integer, got {value!r}.")
    return value


def parse_recipe(text: str, name: str, *, check_resolution: bool = True) -> Recipe:
    """Parse and validate recipe TOML `text`. A Burgers recipe whose grid cannot
    resolve its smallest viscosity is refused (`_resolution.py`) unless
    `check_resolution=False` (for tests of unstable solves)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise RecipeError(f"recipe {name!r} is not valid TOML: {err}") from None
    top = _take(
        data,
        "recipe",
        {
            "description": False,
            "pde": True,
            "grid": True,
            "time": True,
            "parameters": False,
            "initial_condition": True,
            "solver": True,
            "splits": True,
        },
    )
    pde = top["pde"]
    if pde not in pdes.names():
        raise RecipeError(
            f"unknown PDE {pde!r} in recipe {name!r}; known: {', '.join(pdes.names())}."
        )
    descriptor = pdes.get(pde)
    grid = _take(
        top["grid"],
        "grid",
        {"num_points": True, "length": True, "boundary": False},
    )
    if "boundary" in grid and len(descriptor.boundaries) == 1:
        raise RecipeError(
            f"grid.boundary is not an option for {pde} recipes: its grids are "
            f"{descriptor.boundaries[0]}."
        )
    boundary = grid.get("boundary", descriptor.boundaries[0])
    if boundary not in descriptor.boundaries:
        raise RecipeError(
            f"grid.boundary must be one of {descriptor.boundaries}, got {boundary!r}."
        )
    num_points_y = length_y = None
    if descriptor.ndim == 2:
        sizes, lengths = grid["num_points"], grid["length"]
        if not (isinstance(sizes, list) and len(sizes) == 2):
            raise RecipeError("grid.num_points must be [nx, ny] for a 2-D PDE.")
        if not (isinstance(lengths, list) and len(lengths) == 2):
            raise RecipeError("grid.length must be [Lx, Ly] for a 2-D PDE.")
        num_points = _positive_int("grid.num_points[0]", sizes[0])
        num_points_y = _positive_int("grid.num_points[1]", sizes[1])
        length = Distribution.parse("grid.length[0]", lengths[0])
        length_y = Distribution.parse("grid.length[1]", lengths[1])
        if length.kind != "constant" or length_y.kind != "constant":
            raise RecipeError("a 2-D grid's lengths must be numbers.")
        length_y = length_y.low
        if num_points_y < 4 or num_points_y % 2 or length_y <= 0:
            raise RecipeError("need an even num_points[1] >= 4 and length[1] > 0.")
    else:
        num_points = _positive_int("grid.num_points", grid["num_points"])
        length = Distribution.parse("grid.length", grid["length"])
    if num_points < 4 or num_points % 2:
        raise RecipeError(f"grid.num_points must be even and >= 4, got {num_points}.")
    if length.low <= 0:
        raise RecipeError("grid.length must be > 0.")
    time = _take(
        top["time"], "time", {"horizon": True, "num_saves": True, "keep_last": True}
    )
    horizon = Distribution.parse("time.horizon", time["horizon"])
    if horizon.low <= 0:
        raise RecipeError("time.horizon must be > 0.")
    num_saves = _positive_int("time.num_saves", time["num_saves"])
    keep_last = _positive_int("time.keep_last", time["keep_last"])
    if num_saves < 2 or keep_last > num_saves:
        raise RecipeError(
            f"need num_saves >= 2 and keep_last <= num_saves, got {num_saves} and "
            f"{keep_last}."
        )
    expected = descriptor.parameters
    params_table = top.get("parameters", {})
    _take(params_table, "parameters", {k: True for k in expected})
    parameters = {
        k: Distribution.parse(f"parameters.{k}", params_table[k]) for k in expected
    }
    for k, dist in parameters.items():
        if dist.low <= 0:
            raise RecipeError(f"parameters.{k} must be > 0.")
    if descriptor.ndim == 2:
        ic = _take(
            top["initial_condition"],
            "initial_condition",
            {"kind": True, "correlation_length": False},
        )
        if ic["kind"] != "smoke":
            raise RecipeError(
                f"initial_condition.kind {ic['kind']!r} is not known for ns; use 'smoke'."
            )
        corr = ic.get("correlation_length", 2.0)
        if not isinstance(corr, int | float) or corr <= 0:
            raise RecipeError("initial_condition.correlation_length must be > 0.")
        initial_condition = SmokeIC(float(corr))
    else:
        initial_condition = _sine_series_ic(top["initial_condition"])
    solver = _take(
        top["solver"], "solver", {"steps_per_save": False, "rtol": False, "atol": False}
    )
    rtol = atol = steps_per_save = None
    if "steps_per_save" in solver:
        if "rtol" in solver or "atol" in solver:
            raise RecipeError(
                "[solver] takes steps_per_save (fixed-step ETDRK4) or rtol/atol "
                "(adaptive), not both."
            )
        steps_per_save = _positive_int(
            "solver.steps_per_save", solver["steps_per_save"]
        )
    elif descriptor.adaptive and "rtol" in solver and "atol" in solver:
        rtol, atol = float(solver["rtol"]), float(solver["atol"])
        if not (0 < rtol < 1 and 0 < atol < 1):
            raise RecipeError("solver.rtol and solver.atol must be in (0, 1).")
    else:
        raise RecipeError("[solver] needs steps_per_save (or, for ns, rtol and atol).")
    splits = top["splits"]
    if not isinstance(splits, dict) or not splits:
        raise RecipeError("[splits] must map split names to sizes, e.g. train = 100.")
    splits = {k: _positive_int(f"splits.{k}", v) for k, v in splits.items()}
    recipe = Recipe(
        name=name,
        description=top.get("description", ""),
        pde=pde,
        num_points=num_points,
        length=length,
        horizon=horizon,
        num_saves=num_saves,
        keep_last=keep_last,
        parameters=parameters,
        initial_condition=initial_condition,
        steps_per_save=steps_per_save,
        splits=splits,
        source=text,
        num_points_y=num_points_y,
        length_y=length_y,
        rtol=rtol,
        atol=atol,
        boundary=boundary,
    )
    try:
        check_memory(recipe)
        if check_resolution:
            descriptor.check_recipe(recipe)
    except ValueError as err:
        raise RecipeError(f"recipe {name!r}: {err}") from None
    return recipe


def _sine_series_ic(table) -> SineSeriesIC:
    ic = _take(
        table,
        "initial_condition",
        {
            "kind": True,
            "num_modes": False,
            "max_amplitude": False,
            "min_wavenumber": False,
            "max_wavenumber": False,
        },
    )
    if ic["kind"] != "sine_series":
        raise RecipeError(
            f"initial_condition.kind {ic['kind']!r} is not known; use 'sine_series'."
        )
    ic_fields = {k: v for k, v in ic.items() if k != "kind"}
    for k in ("num_modes", "min_wavenumber", "max_wavenumber"):
        if k in ic_fields:
            _positive_int(f"initial_condition.{k}", ic_fields[k])
    if not isinstance(ic_fields.get("max_amplitude", 0.5), int | float):
        raise RecipeError("initial_condition.max_amplitude must be a number.")
    initial_condition = SineSeriesIC(**ic_fields)
    if not 0 < initial_condition.min_wavenumber < initial_condition.max_wavenumber:
        raise RecipeError("need 0 < min_wavenumber < max_wavenumber (exclusive).")
    if initial_condition.max_amplitude <= 0 or initial_condition.num_modes < 1:
        raise RecipeError("need max_amplitude > 0 and num_modes >= 1.")
    return initial_condition


def shipped_recipes() -> list[str]:
    """Names of the recipes shipped with pdessl."""
    return shipped_tomls("pdessl.datasets", "recipes")


def load_recipe(name_or_path: str | Path) -> Recipe:
    """A shipped recipe by name (`ks`, `burgers-tiny`, ...) or a TOML file by path."""
    text_name = str(name_or_path)
    path = Path(name_or_path)
    if text_name in shipped_recipes():
        res = resources.files("pdessl.datasets") / "recipes" / f"{text_name}.toml"
        return parse_recipe(res.read_text(encoding="utf-8"), text_name)
    if path.suffix == ".toml" or path.exists():
        try:
            text = read_toml_text(path, what="recipe")
        except UserError as err:
            raise RecipeError(str(err)) from None
        try:
            return parse_recipe(text, path.stem)
        except RecipeError as err:
            raise RecipeError(f"{path}: {err}") from None
    raise RecipeError(
        f"unknown recipe {text_name!r}: not a shipped recipe "
        f"({', '.join(shipped_recipes())}) and not a .toml file."
    )


def recipe_fingerprint(recipe: Recipe) -> str:
    """A canonical description of what the recipe generates (independent of comments
    and formatting), used to refuse resuming a file with a different recipe."""
    d = dataclasses.asdict(recipe)
    for key in ("source", "name", "description", "splits"):
        d.pop(key)
    return repr(sorted(_flatten(d)))


def _flatten(d, prefix=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from _flatten(v, f"{prefix}{k}.")
        else:
            yield (
                f"{prefix}{k}",
                np.asarray(v).tolist() if not isinstance(v, str) else v,
            )
