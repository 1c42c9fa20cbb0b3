"""The frozen pretrained encoder and its loading."""

import dataclasses
from pathlib import Path

import equinox as eqx

from pdessl import pdes
from pdessl.models import ResNet
from pdessl.shipped import resolve_encoder
from pdessl.training import ChannelScales, read_encoder_file

GRID_FACTOR = 2.0  # allowed ratio between data and training grid spacings


@dataclasses.dataclass(frozen=True)
class Encoder:
    """A frozen pretrained encoder: the network (inference mode), its BatchNorm
    statistics, and the header written at export (`header["config"]` is the
    pretraining configuration)."""

    network: ResNet
    state: eqx.nn.State
    header: dict
    path: str = ""

    @property
    def pde(self) -> str:
        return self.header["pde"]

    @property
    def descriptor(self) -> pdes.PDE:
        """The descriptor of the PDE the encoder was pretrained on."""
        return pdes.get(self.pde)

    @property
    def crop_time(self) -> int:
        return int(self.header["crop_time"])

    @property
    def crop_space(self) -> int:
        return int(self.header["crop_space"])

    @property
    def card(self) -> dict:
        """The model card of a shipped encoder (`pdessl.shipped`); `{}` otherwise."""
        return dict(self.header.get("card", {}))

    @property
    def dim(self) -> int:
        return self.network.out_dim

    @property
    def scales(self) -> ChannelScales:
        return ChannelScales(**self.header["scales"])

    @property
    def training_dt(self) -> float:
        """Mean time step of the pretraining data (the time scale is dt * crop_time)."""
        return self.header["scales"]["t"] / self.crop_time

    @property
    def training_dx(self) -> float:
        return self.header["scales"]["x"] / self.crop_space


def load_encoder(path: str | Path) -> Encoder:
    """Load an encoder exported by pretraining (`WORKDIR/encoder.eqx`), or one
    shipped with the package by name (`"burgers-tiny"`, `pdessl.shipped_encoders()`;
    names are looked up before paths)."""
    path = resolve_encoder(path)
    network, state, header = read_encoder_file(path)
    expected = pdes.get(header["pde"]).in_channels(header["crop_time"])
    if header["in_channels"] != expected:
        raise ValueError(
            f"{path} encodes {header['in_channels']}-channel inputs, but a "
            f"{header['pde']!r} encoder takes {expected}; the file is not a pdessl "
            "pretraining export."
        )
    return Encoder(network, state, header, str(path))
