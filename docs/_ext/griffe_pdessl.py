"""Griffe extension: show pdessl's public names where users import them from.

Two things a static reading of the source cannot see:

- `pdessl.solvers` and `pdessl.datasets` live in the top-level folders `solvers/`
  and `datasets/` (pyproject.toml maps them into the package), so griffe does not
  find them under `pdessl/`. They are located with the import system, which knows
  the mapping, and loaded as submodules of `pdessl`.
- Some top-level names (`pdessl.embed`, `pdessl.load_encoder`, ...) are served
  lazily by a module `__getattr__`. Each one named in the `lazy` option is imported
  once and recorded as an alias of the object it resolves to, wherever that is
  defined, so the docs survive moves between private modules.

It also marks as public what each package's `__init__` re-exports from its private
modules (`from ._burgers import Burgers as Burgers`, the Equinox convention), which
griffe would otherwise treat as mere imports and leave out of the reference.
"""

import importlib
import importlib.util
from pathlib import Path

import griffe


class PdesslLayout(griffe.Extension):
    def __init__(
        self, package: str = "pdessl", mapped=(), lazy: list[str] | tuple = ()
    ):
        super().__init__()
        self.package = package
        self.mapped = tuple(mapped)
        self.lazy = tuple(lazy)

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs):
        if pkg.name != self.package:
            return
        for name in self.mapped:
            if name in pkg.members:
                continue
            spec = importlib.util.find_spec(f"{self.package}.{name}")
            if spec is None or spec.origin is None:
                raise ImportError(f"cannot locate {self.package}.{name}")
            sub = loader._load_module(name, Path(spec.origin), parent=pkg)
            pkg.set_member(name, sub)
        for module in _packages(pkg):
            for name, member in module.members.items():
                if member.is_alias and not name.startswith("_"):
                    target = member.target_path
                    if target.startswith(f"{module.path}._"):
                        member.public = True
        if self.lazy:
            module = importlib.import_module(self.package)
            for name in self.lazy:
                obj = getattr(module, name)
                target = f"{obj.__module__}.{obj.__qualname__}"
                pkg.set_member(name, griffe.Alias(name, target, parent=pkg))


def _packages(module: griffe.Module):
    """`module` and every package below it."""
    if module.is_package or module.is_init_module:
        yield module
    for member in module.members.values():
        if not member.is_alias and member.is_module:
            yield from _packages(member)
