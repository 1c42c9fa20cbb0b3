"""An exclusive lock file that keeps two runs out of one working directory.

The lock is a file created with `O_CREAT | O_EXCL` (atomic on local and NFSv3+ file
systems) holding the owner's pid and host name. A second run is refused with the
owner's pid; a lock left behind by a process that no longer runs on this host (killed
with SIGKILL, or the machine rebooted) is taken over with a note.
"""

import json
import os
import socket
import sys
import time
from pathlib import Path

from .errors import UserError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _read(path: Path) -> dict | None:
    try:
        holder = json.loads(path.read_text())
        return holder if isinstance(holder, dict) and "pid" in holder else None
    except (OSError, ValueError):
        return None


class RunLock:
    """`with RunLock(path, what="the pretraining workdir DIR"):` holds the lock for
    the block and removes it on the way out, whatever happens inside.

    **Arguments:**

    - `path`: the lock file; its directory must exist.
    - `what`: names the locked thing in messages.
    - `note`: receives the takeover note (default: print to stderr).
    """

    def __init__(self, path: str | Path, *, what: str, note=None):
        self.path = Path(path)
        self.what = what
        self.note = note or (lambda text: print(text, file=sys.stderr))
        self._held = False

    def acquire(self) -> None:
        host = socket.gethostname()
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = _read(self.path)
                if holder is None:
                    # Being written by its owner this instant, or left half-written
                    # by a crash: give a fresh one a moment before calling it stale.
                    try:
                        age = time.time() - self.path.stat().st_mtime
                    except FileNotFoundError:  # released meanwhile
                        continue
                    if age < 5:
                        time.sleep(0.2)
                        continue
                elif holder.get("host") != host or _alive(int(holder["pid"])):
                    raise UserError(
                        f"{self.what} is in use by process {holder['pid']} on "
                        f"{holder.get('host')} (lock file {self.path}). Wait for it to "
                        "finish or stop it; if that process is gone, delete the lock "
                        "file."
                    ) from None
                self.note(
                    f"note: taking over the stale lock {self.path} of process "
                    f"{holder['pid'] if holder else '(unknown)'}, which no longer runs."
                )
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                json.dump({"pid": os.getpid(), "host": host, "since": time.time()}, f)
            self._held = True
            return
        raise UserError(
            f"could not take the lock {self.path} for {self.what}; another run keeps "
            "taking it. Try again."
        )

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        holder = _read(self.path)
        if holder is not None and holder.get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
