"""The error a user can fix: a path, a file, a value or a configuration they gave.

`pdessl` prints a `UserError` as one paragraph (what is wrong, with which file, and
the fix) and exits with code 2; only `--debug` shows the traceback. It subclasses
`ValueError`, so code that catches `ValueError` keeps working.
"""

import errno
import os


class UserError(ValueError):
    """Bad input from the user, with a message that names it and says the fix."""


def describe_os_error(err: OSError, *, action: str = "use") -> str:
    """One sentence for an `OSError` from opening, reading or writing a user's path:
    the path, what went wrong in words, and the fix."""
    if err.filename is None:  # e.g. h5py's errors, or a message naming the path
        return str(err)
    name = err.filename
    other = f" -> {err.filename2}" if getattr(err, "filename2", None) else ""
    where = f"{name}{other}"
    if isinstance(err, IsADirectoryError):
        return f"{where} is a directory; give the path of a file."
    if isinstance(err, NotADirectoryError):
        return f"a part of {where} is a file, not a directory; check the path."
    if isinstance(err, FileNotFoundError):
        return f"{where} does not exist; check the path."
    if isinstance(err, PermissionError):
        return (
            f"cannot {action} {where}: permission denied. Fix its permissions, or "
            "choose another location."
        )
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"cannot {action} {where}: {os.strerror(err.errno)}. Free some space or "
            "choose another location."
        )
    if err.errno == errno.EROFS:
        return f"cannot {action} {where}: the file system is read-only."
    return f"cannot {action} {where}: {err.strerror or err}."
