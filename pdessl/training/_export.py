"""The exported encoder: one file, a JSON header line with everything needed to
rebuild the network, then Equinox's serialised leaves (inference mode)."""

import dataclasses
import json
import os
from pathlib import Path

import equinox as eqx
import jax

from pdessl.errors import UserError
from pdessl.models import ResNet

FORMAT = "pdessl-encoder-1"


def export_encoder(path, encoder: ResNet, state: eqx.nn.State, config, scales) -> Path:
    path = Path(path)
    header = {
        "format": FORMAT,
        "in_channels": encoder.stem.in_channels,
        "widths": list(config.widths),
        "depths": list(config.depths),
        "imagenet_stem": config.imagenet_stem,
        "group_norm": config.group_norm,
        "pde": config.pde,
        "crop_time": config.crop_time,
        "crop_space": config.crop_space,
        "scales": dataclasses.asdict(scales),
        "config": dataclasses.asdict(config),
    }
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write((json.dumps(header) + "\n").encode())
        eqx.tree_serialise_leaves(f, (eqx.nn.inference_mode(encoder), state))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def load_encoder(path) -> tuple[ResNet, eqx.nn.State, dict]:
    """`(encoder, state, header)` from a file written by `export_encoder`; the encoder
    is in inference mode (running BatchNorm statistics)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(
            f"{path} is a directory, not an encoder file; give the encoder.eqx inside "
            "a pretraining workdir."
        )
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist.")
    with open(path, "rb") as f:
        try:
            header = json.loads(f.readline())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ValueError(
                f"{path} is not a pdessl encoder file (bad header)."
            ) from None
        if header.get("format") != FORMAT:
            raise ValueError(
                f"{path} has format {header.get('format')!r}, expected {FORMAT}."
            )

        def skeleton():
            enc, st = eqx.nn.make_with_state(ResNet)(
                header["in_channels"],
                widths=tuple(header["widths"]),
                depths=tuple(header["depths"]),
                imagenet_stem=header["imagenet_stem"],
                group_norm=header["group_norm"],
                key=jax.random.key(0),
            )
            return eqx.nn.inference_mode(enc), st

        like = eqx.filter_eval_shape(skeleton)
        try:
            encoder, state = eqx.tree_deserialise_leaves(f, like)
        except Exception as err:  # truncated or mismatched payload
            raise ValueError(f"{path} is truncated or corrupt: {err}") from None
    return encoder, state, header
