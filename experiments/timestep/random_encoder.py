"""Export a pretrained encoder's architecture at initialisation, with its input
scales: the control for `--cond ssl` (how much of the gain is pretraining).

    python experiments/timestep/random_encoder.py PRETRAINED.eqx OUT.eqx
"""

import sys

from pdessl.training import ChannelScales, export_encoder, load_config, load_encoder
from pdessl.training._pretrain import build


def main(pretrained: str, out: str) -> None:
    _, _, header = load_encoder(pretrained)
    config = load_config("tiny", **header["config"])  # the pretrained architecture
    model, state, *_ = build(config)  # its seed's initialisation, no training step
    export_encoder(out, model.encoder, state, config, ChannelScales(**header["scales"]))
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
