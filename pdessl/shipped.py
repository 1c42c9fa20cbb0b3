"""Encoders shipped with the package, loadable by name.

```python
import pdessl
pdessl.shipped_encoders()             # ['burgers-tiny', 'kdv-tiny', ...]
enc = pdessl.load_encoder("burgers-tiny")
enc.card["results"]["regression"]     # what it reached, and on what
```

They are the encoders the CPU experiments trained (`experiments/configs/cpu/`,
widths 16-64, 3,000 steps; `pdessl/experiment_configs/quickstart.toml` for
`quickstart`), copied by `experiments/ship_encoders.py`. Each file's header holds a
model card: the experiment and the command that trained it, the recipe (its full
TOML text) and grid, the pretraining settings, the regression or time-stepping
results it reached, the date and the package version.
"""

from importlib import resources
from pathlib import Path

from pdessl.errors import UserError

_FOLDER = "encoders"
_SUFFIX = ".eqx"


def shipped_encoders() -> list[str]:
    """Names of the encoders shipped with the package."""
    folder = resources.files("pdessl") / _FOLDER
    if not folder.is_dir():
        return []
    return sorted(
        p.name[: -len(_SUFFIX)] for p in folder.iterdir() if p.name.endswith(_SUFFIX)
    )


def _looks_like_a_name(text: str) -> bool:
    """No folder and no suffix: `burgers-tiny`, not `runs/x/encoder.eqx`."""
    path = Path(text)
    return path.name == text and not path.suffix


def resolve_encoder(name_or_path: str | Path) -> Path:
    """The file of a shipped encoder named `name_or_path`, else `name_or_path` as a
    path. A bare name (no folder, no suffix) that is neither shipped nor a file is
    refused with the shipped names."""
    text = str(name_or_path)
    shipped = shipped_encoders()
    if text in shipped:
        with resources.as_file(
            resources.files("pdessl") / _FOLDER / f"{text}{_SUFFIX}"
        ) as path:
            return Path(path)  # package data are plain files in wheels and editables
    if _looks_like_a_name(text) and not Path(text).exists():
        raise UserError(
            f"unknown encoder {text!r}: not a shipped encoder "
            f"({', '.join(shipped) or 'none installed'}) nor a file. Give one of "
            "these names or the path of an exported encoder (WORKDIR/encoder.eqx)."
        )
    return Path(text)
