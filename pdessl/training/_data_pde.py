"""The training data must hold the PDE the configuration describes.

A configuration's `pde` chooses the network's channels, the fields fed to it and the
symmetry group of the views; data of another PDE would train on the wrong group
without any error, so the file's `pde` attribute is compared with it first.
"""

from pathlib import Path

from pdessl.errors import UserError


def check_data_pde(config, ds, data: str | Path) -> None:
    """Refuse the dataset `ds` (opened from `data`) when its `pde` attribute is not
    `config.pde`, naming both."""
    found = str(ds.attrs.get("pde", ""))
    if found != config.pde:
        raise UserError(
            f"{data} holds {found!r} data but the config's pde is {config.pde!r}; "
            f"give --data a {config.pde!r} file, or set pde (and data_recipe) in the "
            "config to match the data."
        )
