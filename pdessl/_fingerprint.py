"""Fingerprints of an experiment's stages: the settings that made a stage folder.

An experiment reuses what a previous run left in its work directory (the data files,
the pretrained encoder), which is what makes it resumable. Reusing them after the
settings changed would silently report results of the old settings, so each stage
folder holds `fingerprint.json`, the settings that made it, written when the stage
starts. A rerun with the same settings resumes; with other settings it is refused,
naming what changed, and the user chooses a new work directory or deletes the folder.

A stage folder from before fingerprints existed (files but no `fingerprint.json`)
cannot be checked; it is adopted with the current settings and a note.
"""

import hashlib
import json
from pathlib import Path

from .errors import UserError
from .outputs import write_json

FILE = "fingerprint.json"


def _normalised(settings: dict) -> dict:
    # As JSON stores it: tuples become lists, keys strings.
    return json.loads(json.dumps(settings, sort_keys=True))


def digest(settings: dict) -> str:
    """A short digest of `settings`, to make a later stage depend on an earlier one."""
    text = json.dumps(_normalised(settings), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _changes(old: dict, new: dict, prefix: str = "") -> list[str]:
    """What differs, as `key (old -> new)`, or just the key for long values;
    nested settings (the pretraining configuration) as `outer.key`."""
    out = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name, "(absent)"), new.get(name, "(absent)")
        key = prefix + name
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out += _changes(a, b, prefix=f"{key}.")
            continue
        short = all(len(json.dumps(v)) <= 40 for v in (a, b))
        out.append(f"{key} ({json.dumps(a)} -> {json.dumps(b)})" if short else key)
    return out


def check_stage(folder: str | Path, settings: dict, *, stage: str, note=print) -> None:
    """Refuse to reuse `folder` when its `fingerprint.json` records other settings
    than `settings`; otherwise record them there (before the stage's work, so that
    an interrupted stage is checked too)."""
    folder = Path(folder)
    path = folder / FILE
    settings = _normalised(settings)
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            old = None
        if not isinstance(old, dict):
            raise UserError(
                f"{path} is unreadable, so the {stage} in {folder} cannot be checked "
                f"against this experiment's settings. Delete {folder} to redo the "
                f"{stage} stage, or use a new --workdir."
            )
        if old == settings:
            return
        raise UserError(
            f"{folder} holds the {stage} of other settings (changed: "
            f"{', '.join(_changes(old, settings))}); reusing it would report results "
            f"of the old settings. Use a new --workdir, or delete {folder} to redo "
            f"the {stage} stage."
        )
    if folder.is_dir() and any(folder.iterdir()):
        note(
            f"{folder} has no {FILE} (made before fingerprints): reusing it as made "
            "with the current settings."
        )
    folder.mkdir(parents=True, exist_ok=True)
    write_json(path, settings)


def stage_digest(folder: str | Path) -> str:
    """The digest of the settings recorded in `folder` (by `check_stage`)."""
    return digest(json.loads((Path(folder) / FILE).read_text()))
