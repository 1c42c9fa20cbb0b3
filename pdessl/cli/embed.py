"""`pdessl embed`: representations of every trajectory of a file."""

import argparse

from pdessl.outputs import atomic_output, check_output

from ._common import add_overwrite, check_data


def run(args: argparse.Namespace) -> int:
    import pdessl
    from pdessl.api import write_embeddings

    out = check_output(
        args.out, inputs=(args.encoder, args.data), overwrite=args.overwrite
    )
    check_data(args.data, "DATA")
    encoder = pdessl.load_encoder(args.encoder)
    emb = pdessl.embed_dataset(
        encoder,
        args.data,
        crops=args.crops,
        check_grid=not args.no_check_grid,
        resample=args.resample,
    )
    with atomic_output(out) as tmp:
        write_embeddings(emb, tmp)
    n, dim = emb.representation.shape
    print(f"wrote {n} representations of dimension {dim} to {args.out}")
    return 0


def add_parser(sub) -> None:
    emb = sub.add_parser("embed", help="representations of every trajectory of a file")
    emb.add_argument("encoder", help="an exported encoder.eqx")
    emb.add_argument("data", help="a dataset file (HDF5)")
    emb.add_argument("--out", required=True)
    emb.add_argument("--crops", choices=("mean", "first"), default="mean")
    emb.add_argument(
        "--resample",
        action="store_true",
        help="bring the data onto the encoder's training grid first (Fourier in "
        "space, high-order interpolation in time, refused when inaccurate)",
    )
    emb.add_argument(
        "--no-check-grid",
        action="store_true",
        help="embed data whose grid is off the encoder's by more than a factor 2 "
        "(out of distribution; prefer --resample)",
    )
    add_overwrite(emb)
    emb.set_defaults(func=run)
