"""Argument types and checks shared by the subcommands."""

import argparse

from pdessl.errors import UserError
from pdessl.outputs import write_json


def parse_shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--shard must look like I/N (e.g. 0/4), got {text!r}"
        ) from None
    if n < 1 or not 0 <= i < n:
        raise argparse.ArgumentTypeError(
            f"--shard I/N needs N >= 1 and 0 <= I < N (shards are numbered from 0), "
            f"got {text!r}"
        )
    return i, n


def negative_values_attached(argv: list[str]) -> list[str]:
    """`--shard -1/2` as `--shard=-1/2`: argparse takes a value starting with `-` for
    an option and would say only "expected one argument"; attached, the value
    reaches the parser, which names the valid range."""
    out = []
    i = 0
    while i < len(argv):
        if argv[i] == "--shard" and i + 1 < len(argv) and argv[i + 1][:1] == "-":
            out.append(f"--shard={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def parse_nodes_gpus(text: str) -> tuple[int, int]:
    try:
        nodes, gpus = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--slurm must look like NODES/GPUS (e.g. 2/4), got {text!r}"
        ) from None
    if nodes < 1 or gpus < 1:
        raise argparse.ArgumentTypeError(
            f"--slurm needs NODES, GPUS >= 1, got {text!r}"
        )
    return nodes, gpus


def parse_seeds(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(
            f"--seeds takes integers separated by commas, got {text!r}."
        ) from None


def write_results(path: str | None, report: dict) -> None:
    """Write a command's results as JSON when `--out` was given (checked before the
    work by `check_output`)."""
    if path:
        write_json(path, report)
        print(f"wrote {path}")


def check_data(path: str, flag: str) -> str:
    """Refuse an input dataset that cannot be read, is incomplete, has inconsistent
    grid metadata or holds NaN/Inf; return its PDE."""
    from pdessl import datasets

    with datasets.open_dataset(path) as ds:
        pde = str(ds.attrs.get("pde", ""))
    try:
        datasets.check_finite(path)
    except datasets.DatasetFileError as err:
        raise UserError(f"{flag}: {err}") from None
    return pde


def check_pair(train: str, test: str) -> None:
    """The train and test files must hold the same PDE."""
    pdes = check_data(train, "--train"), check_data(test, "--test")
    if pdes[0] != pdes[1]:
        raise UserError(
            f"--train {train} holds {pdes[0]!r} data but --test {test} holds "
            f"{pdes[1]!r}; give a train and a test split of the same PDE "
            "(`pdessl inspect FILE` shows a file's PDE)."
        )


def add_overwrite(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing output file (never one of the inputs)",
    )


def add_overrides(parser: argparse.ArgumentParser, example: str) -> None:
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help=f"config overrides, dots for nested keys (e.g. {example}); checked "
        "against the config's keys and types",
    )
