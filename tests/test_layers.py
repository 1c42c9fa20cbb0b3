"""The import contract: layers that point one way (DESIGN.md, Layout).

Every `import` in the library, including those inside functions, is read from the
source with `ast` and mapped to a layer; a module may import its own package, lower
layers, and nothing above. Packages sharing a layer are independent of each other
(`training` and `augment` do not import one another, nor do `symmetries`, `models`
and `vicreg`). Nothing imports `pdessl.cli`. The package `__init__` of `pdessl`
is the public facade and is exempt (its lazy attributes reach `api`).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. Each entry: the packages/modules of one layer.
LAYERS = (
    (
        "pdessl.errors",
        "pdessl.outputs",
        "pdessl.runlock",
        "pdessl.tomlfile",
        "pdessl.progress",
        "pdessl.shipped",
    ),
    ("pdessl._fingerprint",),
    ("pdessl.solvers",),
    ("pdessl.symmetries", "pdessl.models", "pdessl.vicreg"),
    ("pdessl.pdes",),
    ("pdessl.datasets", "pdessl.simulate", "pdessl._resample"),
    ("pdessl.training", "pdessl.augment"),
    ("pdessl.embedding",),
    ("pdessl.downstream",),
    ("pdessl.api",),
    ("pdessl.experiment",),
    ("pdessl.overrides",),
    ("pdessl.cli",),
)
# Where each top-level name lives on disk (setuptools maps solvers/ and datasets/).
SOURCES = {"pdessl": ROOT / "pdessl", "pdessl.solvers": ROOT / "solvers"}
SOURCES["pdessl.datasets"] = ROOT / "datasets"


def _unit(module: str) -> tuple[int, str] | None:
    """(layer index, unit) of a module name, or None outside the library."""
    for index, units in enumerate(LAYERS):
        for unit in units:
            if module == unit or module.startswith(unit + "."):
                return index, unit
    return None


def _modules(sources: dict[str, Path]):
    """(module name, path) of every library file, `pdessl/__init__.py` excepted."""
    for base, folder in sources.items():
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            name = ".".join([base, *parts])
            if base == "pdessl" and parts and parts[0] in ("solvers", "datasets"):
                continue
            if name != "pdessl":
                yield name, path


def _imports(name: str, path: Path):
    """Absolute names imported by the module `name` at `path` (with line numbers)."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            yield target, node.lineno
            for alias in node.names:  # `from pdessl import datasets`
                yield f"{target}.{alias.name}", node.lineno


def violations(sources: dict[str, Path]) -> list[str]:
    found, seen = [], set()
    for name, path in _modules(sources):
        own = _unit(name)
        if own is None:
            continue
        for target, line in _imports(name, path):
            other = _unit(target)
            if other is None or other[1] == own[1] or (path, line, other) in seen:
                continue
            seen.add((path, line, other))
            where = f"{path.relative_to(ROOT) if ROOT in path.parents else path}:{line}"
            if other[0] > own[0]:
                found.append(f"{where}: {name} (layer {own[1]}) imports {target}")
            elif other[0] == own[0] and own[0] > 0:  # the utilities may share
                found.append(f"{where}: {name} imports its sibling layer {target}")
    return found


def test_library_imports_point_down():
    found = violations(SOURCES)
    assert found == [], "\n".join(found)


def test_the_contract_catches_an_upward_import(tmp_path):
    # A copy of the symmetries package with one import of training code added: the
    # check must name it (so the contract above can fail).
    pkg = tmp_path / "pdessl"
    (pkg / "symmetries").mkdir(parents=True)
    (pkg / "symmetries" / "__init__.py").write_text(
        "def f():\n    from pdessl.training import pretrain\n"
    )
    (pkg / "models.py").write_text("from pdessl import vicreg\n")
    (pkg / "datasets_user.py").write_text("from pdessl.cli import main\n")
    found = violations({"pdessl": pkg})
    assert any("(layer pdessl.symmetries) imports pdessl.training" in v for v in found)
    assert any(
        "pdessl.models imports its sibling layer pdessl.vicreg" in v for v in found
    )
    assert len(found) == 2, found  # datasets_user is outside every layer


@pytest.mark.parametrize("name", ["pdessl.cli", "pdessl.cli.pretrain"])
def test_nothing_imports_the_cli(name):
    importers = [
        module
        for module, path in _modules(SOURCES)
        if not module.startswith("pdessl.cli")
        and any(
            t == name or t.startswith(name + ".") for t, _ in _imports(module, path)
        )
    ]
    assert importers == []
