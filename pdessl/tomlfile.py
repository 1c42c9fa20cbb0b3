"""Reading a TOML file a user named: recipes, pretraining configs, experiments.

The usual mistakes get their own message instead of a decoding traceback: a
directory, a data file (HDF5, NumPy, an exported encoder) passed where the TOML file
goes, or a binary file.
"""

import tomllib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from .errors import UserError

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_DATA_SUFFIXES = (".h5", ".hdf5", ".nc", ".npz", ".npy", ".eqx")


def read_toml_text(path: str | Path, *, what: str) -> str:
    """The text of the TOML file `path`; `what` ("recipe", "config", ...) names it in
    messages."""
    path = Path(path)
    article = "an" if what[:1] in "aeiou" else "a"
    if path.is_dir():
        raise UserError(
            f"{path} is a directory, not {article} {what} file; give the path of a .toml file "
            "(or a shipped name)."
        )
    if not path.exists():
        raise UserError(f"{what} file {path} does not exist; check the path.")
    with open(path, "rb") as f:
        head = f.read(8)
    if head == _HDF5_MAGIC or path.suffix.lower() in _DATA_SUFFIXES:
        kind = "an HDF5 data file" if head == _HDF5_MAGIC else f"a {path.suffix} file"
        raise UserError(
            f"{path} is {kind}, not a TOML {what}. Pass the {what} (a shipped name "
            f"or a .toml file) here; data files go to --data, --train, --test or the "
            "DATA argument."
        )
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(
            f"{path} is not a text file, so not a TOML {what}; give a .toml file."
        ) from None


def shipped_tomls(package: str, folder: str) -> list[str]:
    """Names of the `*.toml` files shipped in `package/folder`."""
    files = resources.files(package) / folder
    return sorted(p.name[:-5] for p in files.iterdir() if p.name.endswith(".toml"))


def read_toml(name_or_path: str | Path, package: str, folder: str, what: str) -> dict:
    """A shipped TOML file (by name) or a TOML file path, parsed; errors name the
    shipped choices and TOML syntax problems."""
    name = str(name_or_path)
    shipped = shipped_tomls(package, folder)
    if name in shipped:
        text = (resources.files(package) / folder / f"{name}.toml").read_text()
    elif Path(name).exists() or Path(name).suffix:
        text = read_toml_text(name, what=what)
    else:
        raise UserError(
            f"unknown {what} {name!r}: not shipped ({', '.join(shipped)}) nor a file."
        )
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise UserError(f"{name}: invalid TOML: {err}. Fix the file.") from None


def check_keys(data: dict, known: Iterable[str], what: str) -> None:
    """Refuse keys of `data` outside `known`, naming them and the valid ones;
    `what` starts the message ("quickstart: unknown key(s)")."""
    known = set(known)
    unknown = set(data) - known
    if unknown:
        raise UserError(f"{what} {sorted(unknown)}; known: {sorted(known)}.")
