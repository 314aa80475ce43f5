"""Pausing the cyclic collector around a training step restores it exactly, nested, in threads, on errors."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from autograd.collector import collector_paused
from nn import MLP, datasets, train


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_nested_pauses_restore_the_collector_when_the_outer_one_ends() -> None:
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_program_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_an_error_inside_still_restores_it() -> None:
    with pytest.raises(ZeroDivisionError), collector_paused():
        _ = 1 / 0
    assert gc.isenabled()


def test_overlapping_pauses_in_threads_restore_it_once_all_have_ended() -> None:
    inside = threading.Barrier(4)
    leave = threading.Event()
    states: list[bool] = []

    def pause() -> None:
        with collector_paused():
            inside.wait()
            leave.wait()
            states.append(gc.isenabled())

    threads = [threading.Thread(target=pause) for _ in range(3)]
    for t in threads:
        t.start()
    inside.wait()  # all three are inside their pause
    assert not gc.isenabled()
    leave.set()
    for t in threads:
        t.join()
    assert states == [False, False, False]  # nobody switched it back on while another still paused it
    assert gc.isenabled()


def test_training_leaves_the_collector_as_it_found_it() -> None:
    X, y = datasets.moons(20, seed=0)
    train(MLP(2, [4, 1], seed=0), X, y, steps=3, progress=False)
    assert gc.isenabled()
    gc.disable()
    train(MLP(2, [4, 1], seed=0), X, y, steps=3, progress=False)
    assert not gc.isenabled()
