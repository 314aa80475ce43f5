"""The atomic writer touches no global state and replaces nothing but regular files."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from autograd.files import NotARegularFileError, temporary_name, write_atomically


def test_the_umask_is_never_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_umask(mask: int) -> int:
        raise AssertionError("write_atomically changed the process umask (another thread's files would get it)")

    monkeypatch.setattr(os, "umask", no_umask)
    write_atomically(tmp_path / "file.txt", b"data")
    assert (tmp_path / "file.txt").read_bytes() == b"data"


def test_a_new_file_gets_0o666_less_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        write_atomically(tmp_path / "file.txt", b"data")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "file.txt").stat().st_mode) == 0o640


def test_a_fifo_is_refused_and_left_alone(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NotARegularFileError, match=r"pipe is a FIFO \(named pipe\), not a regular file"):
        write_atomically(fifo, b"data")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotARegularFileError, match="is a directory"):
        write_atomically(tmp_path, b"data")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_is_refused_and_left_alone(tmp_path: Path) -> None:
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a copy of /dev/null
    with pytest.raises(NotARegularFileError, match="a character device"):
        write_atomically(device, b"data")
    assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_a_symlink_is_followed_and_kept(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_bytes(b"old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    assert write_atomically(link, b"new") == real
    assert link.is_symlink()
    assert real.read_bytes() == b"new"


def test_a_symlink_to_a_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(fifo)
    with pytest.raises(NotARegularFileError, match="which links to"):
        write_atomically(link, b"data")
    assert link.is_symlink()


def test_leftovers_are_named_recognisably(tmp_path: Path) -> None:
    name = temporary_name(tmp_path / "model.json").name
    assert re.fullmatch(r"\.model\.json\.chainrule-[0-9a-f]{8}\.tmp", name)


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(tmp_path / "file.txt", b"data")
    assert list(tmp_path.iterdir()) == []
