"""Files under var/ hold citizen data and secrets (the database, the endpoints file with the
actions token, logs, the index): they are created private to the service's account, folders 0700
and files 0600, whatever the umask."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
# SQLite's companions take the database file's mode when SQLite creates them; older ones are
# tightened with it.
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def private_dir(path: Path, tighten: bool = False) -> Path:
    """Create `path` and any missing parents as 0700 folders; with `tighten`, an existing `path`
    (the app's own var/ of an older install) is made 0700 too."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        os.chmod(folder, PRIVATE_DIR)  # mkdir's mode is masked by the umask
    if tighten and not missing:
        os.chmod(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty as 0600 if it is missing, or make it 0600 if it exists."""
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE)
    try:
        os.fchmod(descriptor, PRIVATE_FILE)
    finally:
        os.close(descriptor)
    return path


def private_sqlite(path: Path) -> None:
    """A SQLite database file (and its folder, when new) private before SQLite opens it, so that
    its WAL and shared-memory files are created private too; existing ones are tightened."""
    private_dir(path.parent)
    private_file(path)
    for suffix in SQLITE_SUFFIXES[1:]:
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            os.chmod(companion, PRIVATE_FILE)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` as a 0600 file (also when it existed with another mode)."""
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        os.fchmod(descriptor, PRIVATE_FILE)
        handle.write(text)
