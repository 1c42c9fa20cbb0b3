"""Export a pretrained encoder's architecture at initialisation, with BatchNorm
statistics calibrated on unaugmented crops of the training data: the control for
`--cond ssl` (how much of the gain is pretraining).

    python experiments/timestep/random_encoder.py PRETRAINED.eqx TRAIN.h5 OUT.eqx
"""

import sys

from pdessl.training import export_untrained, load_config, read_encoder_file


def main(pretrained: str, train: str, out: str) -> None:
    _, _, header = read_encoder_file(pretrained)
    config = load_config("tiny", **header["config"])  # the pretrained architecture
    export_untrained(config, train, out)  # its seed's initialisation, no training step
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
