"""The `pdessl` command. It parses arguments and calls library functions."""

import argparse
import os
import sys
from pathlib import Path

from pdessl.errors import UserError, describe_os_error

from . import (
    augment,
    embed,
    experiment,
    generate,
    importing,
    inspecting,
    pretrain,
    probe,
    simulate,
    timestep,
)
from ._common import negative_values_attached

_DEBUG_HELP = "show the full traceback of an error (for bug reports)"
_QUIET_HELP = "no progress bars or per-step log lines (logs, CI)"
_COMMANDS = (
    simulate,
    generate,
    inspecting,
    importing,
    augment,
    pretrain,
    probe,
    embed,
    experiment,
    timestep,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pdessl", description=__doc__)
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in _COMMANDS:
        command.add_parser(sub)
    parser.add_argument("--quiet", action="store_true", help=_QUIET_HELP)
    for command in sub.choices.values():  # also accepted after the command
        command.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP
        )
        command.add_argument(
            "--quiet", action="store_true", default=argparse.SUPPRESS, help=_QUIET_HELP
        )
    return parser


def _user_message(err: BaseException) -> str | None:
    """The one-paragraph message for an expected failure (bad input, a file that
    cannot be read or written, a missing optional dependency), or None for an
    unexpected exception, i.e. a bug, which keeps its traceback."""
    if isinstance(err, UnicodeDecodeError):
        return (
            f"a file given as text is binary ({err.reason} at byte {err.start}); "
            "check that each argument names the right kind of file."
        )
    if isinstance(err, (ValueError, ImportError, RuntimeError, FloatingPointError)):
        return str(err)
    if isinstance(err, OSError):
        return describe_os_error(err)
    if isinstance(err, KeyError) and _raised_by_file_library(err):
        return (
            f"a file lacks the entry {err}: it is not in the layout pdessl expects "
            "(a foreign or damaged file). Check the paths; `pdessl inspect FILE` "
            "describes a dataset file."
        )
    return None


def _raised_by_file_library(err: BaseException) -> bool:
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    name = tb.tb_frame.f_code.co_filename if tb is not None else ""
    # h5py's compiled modules report paths like "h5py/h5o.pyx".
    parts = Path(name).parts
    return any(lib in parts[:-1] for lib in ("h5py", "h5netcdf"))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args, extra = parser.parse_known_args(negative_values_attached(argv))
    if extra and hasattr(args, "overrides") and not any(a[:1] == "-" for a in extra):
        args.overrides = [*args.overrides, *extra]  # KEY=VALUE after an option
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    from pdessl.progress import set_quiet

    # Per command: a quiet earlier call in the same process does not carry over.
    set_quiet(bool(args.quiet) or os.environ.get("PDESSL_QUIET", "") == "1")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        # Outputs are written under temporary names and locks released on the way
        # out: nothing half-written is left under a real name.
        print(f"pdessl {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        message = _user_message(err)
        if message is None or args.debug:
            raise
        # Expected failures name the file and the fix; no traceback for users.
        if not isinstance(err, UserError):
            message += " (--debug shows the traceback)"
        print(f"pdessl {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
