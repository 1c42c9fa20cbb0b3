"""PDE descriptors: the registry, what each descriptor says, and the rule that
library code never compares a PDE's name with a string literal."""

import ast
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from pdessl import pdes

ROOT = Path(__file__).resolve().parents[1]
# Where names are parsed into descriptors: the CLI. (Recipes and configs turn names
# into descriptors by `pdes.get`, with no comparison.)
PARSING = {ROOT / "pdessl" / "cli"}


def test_registry_lists_every_pde_and_refuses_unknown_names():
    assert set(pdes.names()) >= {"ks", "kdv", "burgers", "heat", "ns", "ce"}
    assert pdes.get("burgers") is pdes.get(pdes.get("burgers"))
    with pytest.raises(pdes.UnknownPDE, match="unknown PDE 'burger'; known: "):
        pdes.get("burger")


@pytest.mark.parametrize("name", ["ks", "kdv", "burgers", "heat", "ns", "ce"])
def test_descriptor_is_consistent(name):
    pde = pdes.get(name)
    assert pde.name == name
    assert set(pde.view_fields) <= set(pde.fields)
    names = {g.name for g in pde.default_generators()}
    for target in (*pde.parameters, "*"):
        # The generators said to keep a target are generators of the PDE.
        assert set(pde.generators_keeping(target)) <= names | {"time_shift"}
    for g in pde.default_generators():
        assert set(g.needs) <= set(pde.view_variables), g
    assert set(pde.estimators) <= {*pde.parameters, ",".join(pde.parameters)}


def test_in_channels():
    assert pdes.get("burgers").in_channels(16) == 3  # (t, x, u)
    assert pdes.get("ns").in_channels(4) == 20  # (x, y, t, vx, vy) x 4 frames


def _name_comparisons(path: Path, names: set[str]):
    """Lines of `path` comparing something with a PDE name literal (==, !=, in)."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for op in operands:
            values = []
            if isinstance(op, ast.Constant):
                values = [op.value]
            elif isinstance(op, ast.Tuple | ast.List | ast.Set):
                values = [e.value for e in op.elts if isinstance(e, ast.Constant)]
            if any(isinstance(v, str) and v in names for v in values):
                yield node.lineno


def test_no_pde_name_comparisons_outside_parsing():
    names = set(pdes.names())
    found = []
    for folder in ("pdessl", "solvers", "datasets"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if any(path == p or p in path.parents for p in PARSING):
                continue
            found += [
                f"{path.relative_to(ROOT)}:{n}" for n in _name_comparisons(path, names)
            ]
    assert found == []


def test_the_name_check_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('def f(p):\n    return 3 if p.pde == "ns" else p in ("kdv",)\n')
    assert list(_name_comparisons(bad, set(pdes.names()))) == [2, 2]


def test_combined_equation_estimator_recovers_coefficients():
    # Samples of the ce-tiny recipe; the least-squares estimator has a Simpson
    # (4th order in dt = 0.04 between frames) and spectral error only: measured
    # 3.6e-4 relative on alpha (2e-5 on beta, gamma) for 16 samples; 1e-2 leaves a
    # margin of ~28x.
    from pdessl import datasets
    from pdessl.datasets._sampling import solve_samples

    recipe = datasets.load_recipe("ce-tiny")
    out, _ = solve_samples(recipe, 0, "test", np.arange(4), 4)
    ds = xr.Dataset(
        {
            "u": (("sample", "time", "x"), out["u"]),
            "dx": ("sample", out["dx"]),
            "dt": ("sample", out["dt"]),
        }
    )
    estimate = pdes.get("ce").estimators["alpha,beta,gamma"](ds)
    true = np.stack([out["alpha"], out["beta"], out["gamma"]], axis=1)
    np.testing.assert_allclose(estimate, true, rtol=1e-2)
