"""Output files written whole or not at all, and never over an input.

Every command writes its output under a temporary name in the same directory and
`os.replace`s it into place, so an interrupted run never leaves half a file under the
real name. Before writing, `check_output` refuses an output that is one of the
command's inputs (always) or an existing file (unless the user asked to overwrite).
"""

import contextlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import UserError


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name the same file (through links and `..`)."""
    a, b = Path(a), Path(b)
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def check_output(
    out: str | Path,
    *,
    inputs: Iterable[str | Path | None] = (),
    overwrite: bool = False,
    flag: str = "--out",
) -> Path:
    """`out` as a `Path`, after refusing an input file (even with `overwrite`), a
    directory, and an existing file (unless `overwrite`)."""
    out = Path(out)
    for source in inputs:
        if source is not None and same_file(out, source):
            raise UserError(
                f"{flag} {out} is also an input ({source}); writing it would destroy "
                "the input. Choose another output name (--overwrite never replaces "
                "an input)."
            )
    parent = next((p for p in out.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise UserError(
            f"{flag} {out}: {parent} is a file, not a directory; choose another "
            "location."
        )
    if out.is_dir():
        raise UserError(
            f"{flag} {out} is a directory; give a file name, e.g. "
            f"{out / ('output' + (out.suffix or '.h5'))}."
        )
    if out.exists() and not overwrite:
        raise UserError(
            f"{flag} {out} exists; pass --overwrite to replace it, or choose another "
            "name."
        )
    _make_parent(out)  # now, not after the work: a bad location fails at once
    return out


def _make_parent(out: Path) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(
            f"cannot create the directory {out.parent} for {out}: "
            f"{err.strerror or err}. Choose another location."
        ) from err


def temporary_name(out: str | Path) -> Path:
    """A name beside `out`, unique to this process, with the same suffix (writers
    such as matplotlib pick the format from it)."""
    out = Path(out)
    return out.with_name(f".{out.stem}.{os.getpid()}.partial{out.suffix}")


@contextlib.contextmanager
def atomic_output(out: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `out`, on any error
    it is removed and `out` is left as it was."""
    out = Path(out)
    _make_parent(out)
    tmp = temporary_name(out)
    try:
        yield tmp
        os.replace(tmp, out)
    except OSError as err:
        if err.filename not in (None, str(tmp)) and str(tmp) not in str(err):
            raise  # about an input, and names it
        # Name the output the user gave, not the temporary name.
        reason = os.strerror(err.errno) if err.errno else str(err)
        raise UserError(
            f"cannot write {out}: {reason}. Choose another location, or free space "
            "or fix permissions there."
        ) from err
    finally:
        tmp.unlink(missing_ok=True)


def write_json(out: str | Path, report: dict) -> Path:
    """Write `report` as indented JSON to `out`, atomically."""
    with atomic_output(out) as tmp:
        with open(tmp, "w") as f:
            json.dump(report, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
    return Path(out)
