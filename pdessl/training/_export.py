"""The exported encoder: one file, a JSON header line with everything needed to
rebuild the network, then Equinox's serialised leaves (inference mode)."""

import dataclasses
import json
import math
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


def _positive_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _positive_ints(v) -> bool:
    return isinstance(v, list) and len(v) > 0 and all(_positive_int(a) for a in v)


# What each header key must hold, in words for the message. `config` is only
# recorded (for provenance); the others rebuild the network and its input views.
_HEADER = {
    "in_channels": (_positive_int, "a positive integer"),
    "widths": (_positive_ints, "a non-empty list of positive integers"),
    "depths": (_positive_ints, "a non-empty list of positive integers"),
    "imagenet_stem": (lambda v: isinstance(v, bool), "true or false"),
    "group_norm": (lambda v: isinstance(v, bool), "true or false"),
    "pde": (lambda v: isinstance(v, str) and v != "", "a PDE name"),
    "crop_time": (_positive_int, "a positive integer"),
    "crop_space": (_positive_int, "a positive integer"),
    "scales": (lambda v: isinstance(v, dict), "an object"),
    "config": (lambda v: isinstance(v, dict), "an object"),
}
_SCALES = {
    "t": (lambda v: _number(v) and v > 0, "a positive number"),
    "x": (lambda v: _number(v) and v > 0, "a positive number"),
    "u": (lambda v: _number(v) and v > 0, "a positive number"),
    "t_ref": (_number, "a finite number"),
    "x_ref": (_number, "a finite number"),
    "centred": (lambda v: isinstance(v, bool), "true or false"),
    "field_per_view": (lambda v: isinstance(v, bool), "true or false"),
}
_SCALES_REQUIRED = ("t", "x", "u")  # the others have defaults (older exports)


def check_header(header: dict, path) -> None:
    """Refuse an encoder header with a missing key or a value of the wrong type,
    naming the key: a crafted or damaged header would otherwise fail deep inside
    the network's constructor."""

    def bad(key, value, want):
        return UserError(
            f"{path}: the encoder header's {key!r} is {json.dumps(value)}, expected "
            f"{want}; the file is damaged or not a pdessl export. Export the encoder "
            "again (pdessl pretrain writes WORKDIR/encoder.eqx)."
        )

    missing = [k for k in _HEADER if k not in header]
    if missing:
        raise UserError(
            f"{path}: the encoder header lacks the key(s) {missing}; the file is "
            "damaged or not a pdessl export. Export the encoder again."
        )
    for key, (ok, want) in _HEADER.items():
        if not ok(header[key]):
            raise bad(key, header[key], want)
    if len(header["widths"]) != len(header["depths"]):
        raise bad("depths", header["depths"], "one entry per width")
    scales = header["scales"]
    missing = [k for k in _SCALES_REQUIRED if k not in scales]
    unknown = sorted(set(scales) - set(_SCALES))
    if missing or unknown:
        raise bad(
            "scales",
            scales,
            f"the keys {list(_SCALES_REQUIRED)} (optionally "
            f"{[k for k in _SCALES if k not in _SCALES_REQUIRED]})",
        )
    for key, value in scales.items():
        ok, want = _SCALES[key]
        if not ok(value):
            raise bad(f"scales.{key}", value, want)


def read_encoder_file(path) -> tuple[ResNet, eqx.nn.State, dict]:
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
        if not isinstance(header, dict):
            raise UserError(
                f"{path} is not a pdessl encoder file (its header is a "
                f"{type(header).__name__}, not a JSON object)."
            )
        if header.get("format") != FORMAT:
            raise ValueError(
                f"{path} has format {header.get('format')!r}, expected {FORMAT}."
            )
        check_header(header, path)

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
