"""Threads: grad mode is per thread, and concurrent backward passes give the sequential answers."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

import pytest

import autograd
from autograd import Value, grad, no_grad


@pytest.fixture(autouse=True)
def switch_often() -> Iterator[None]:
    """Let threads switch every microsecond, so that a race shows in a short test."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def run_together(*targets: Callable[[], None]) -> None:
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    if errors:
        raise errors[0]


class TestGradModeIsPerThread:
    def test_a_thread_inside_no_grad_does_not_stop_another_recording(self) -> None:
        inside, done = threading.Event(), threading.Event()

        def evaluate() -> None:
            with no_grad():
                inside.set()
                done.wait(10)

        worker = threading.Thread(target=evaluate)
        worker.start()
        try:
            assert inside.wait(10)
            assert autograd.is_grad_enabled()
            w = Value(2.0)
            assert not (w * 3).is_leaf
            assert not autograd.sum([w, w]).is_leaf
        finally:
            done.set()
            worker.join()

    def test_overlapping_blocks_leave_recording_on(self) -> None:
        # A enters, B enters, A leaves, B leaves: a process-wide flag ends up off.
        a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

        def first() -> None:
            with no_grad():
                a_in.set()
                b_in.wait(10)
            a_out.set()

        def second() -> None:
            a_in.wait(10)
            with no_grad():
                b_in.set()
                a_out.wait(10)
                assert not autograd.is_grad_enabled()
                assert (Value(1.0) * 2).is_leaf

        run_together(first, second)
        assert autograd.is_grad_enabled()
        assert not (Value(1.0) * 2).is_leaf

    def test_many_threads_entering_and_leaving(self) -> None:
        def work() -> None:
            for _ in range(200):
                with no_grad():
                    assert (Value(1.0) * 2).is_leaf
                    with autograd.enable_grad():
                        assert not (Value(1.0) * 2).is_leaf
                assert not (Value(1.0) * 2).is_leaf

        run_together(*[work] * 8)
        assert autograd.is_grad_enabled()


def shared_graph(depth: int = 300) -> tuple[Value, Value]:
    """A leaf and a long chain on it, shared by every thread; d(chain)/d(leaf) = 1 exactly."""
    x = Value(1.0)
    h = x
    for _ in range(depth):
        h = h * 1.0 + 0.0
    return x, h


class TestConcurrentBackward:
    def test_backward_on_graphs_sharing_nodes(self) -> None:
        x, h = shared_graph()
        outputs = [h * float(k) for k in range(1, 9)]
        repeats = 20

        def work(y: Value) -> Callable[[], None]:
            def run() -> None:
                for _ in range(repeats):
                    y.backward()

            return run

        run_together(*[work(y) for y in outputs])
        # leaves accumulate: each of the 8 outputs adds k, 20 times
        assert x.grad == repeats * sum(range(1, 9))

    def test_grad_on_graphs_sharing_nodes(self) -> None:
        x, h = shared_graph()
        x.grad = 5.0
        wrong: list[object] = []

        def work(k: int) -> Callable[[], None]:
            def run() -> None:
                y = h * float(k)
                for _ in range(20):
                    found = grad(y, [x])
                    if found != [float(k)]:
                        wrong.append((k, found))

            return run

        run_together(*[work(k) for k in range(1, 9)])
        assert wrong == []
        assert x.grad == 5.0  # grad puts back what it found
