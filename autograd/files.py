"""Writing files so that a crash never leaves half of one, and nothing but a file is replaced.

`write_atomically` writes to a temporary file next to the target, named
``.NAME.chainrule-XXXXXXXX.tmp`` (eight random hex digits), then renames it
over the target. Only a process killed between those two steps leaves such a
file behind; the name says whose it is and that it may be deleted. The
process's umask is never changed: the kernel applies it when the temporary
file is created with mode 0o666, as for any new file.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path

__all__ = ["NotARegularFileError", "temporary_name", "write_atomically"]


class NotARegularFileError(OSError):
    """The target exists and is not a regular file (a directory, a device, a FIFO, a socket): it is left alone."""


def temporary_name(path: Path) -> Path:
    """A fresh name for the temporary file that will replace `path`: ``.NAME.chainrule-XXXXXXXX.tmp``."""
    return path.with_name(f".{path.name}.chainrule-{secrets.token_hex(4)}.tmp")


def write_atomically(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path`: a crash leaves either the old file or the complete new one.

    The data goes to a temporary file in the same folder (`temporary_name`),
    is flushed to disk, and then replaces the file in one step (`os.replace`).
    A symbolic link is followed: the file it points to is replaced and the
    link kept. A new file gets the usual mode, 0o666 less the umask.

    Returns:
        The file written (the link's target when `path` is a symbolic link).

    Raises:
        NotARegularFileError: `path` (or what it links to) exists and is not a
            regular file; nothing is written.
        OSError: the folder cannot be created or written.
    """
    target = Path(os.path.realpath(path))
    _refuse_non_regular(target, Path(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        temporary = temporary_name(target)
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        except FileExistsError:
            continue  # another writer drew the same eight hex digits
        break
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        _refuse_non_regular(target, Path(path))  # it may have been replaced by something else meanwhile
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


def _refuse_non_regular(target: Path, given: Path) -> None:
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
        where = f"{given} (which links to {target})" if given != target else str(given)
        raise NotARegularFileError(errno.EEXIST, f"{where} is {kind}, not a regular file; it is left alone", str(given))


_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
}
