"""Reading a TOML file a user named: recipes, pretraining configs, experiments.

The usual mistakes get their own message instead of a decoding traceback: a
directory, a data file (HDF5, NumPy, an exported encoder) passed where the TOML file
goes, or a binary file.
"""

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
