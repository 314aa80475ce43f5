"""Compiled code (`autograd.compile`, `autograd.compile_batch`): the dynamic engine's bits, or its own fallback.

The reference is always the dynamic engine itself: build the graph from
Values, call ``backward()``, read the gradients. "The same" means the same
bits (`same_bits`), so inf and the sign of a zero count, and nan must meet
nan. A nan's own sign and payload do not count: when two nans meet in an
addition, which one the processor keeps depends on how C code ordered the
operands, which differs between CPython's own code paths.
"""

from __future__ import annotations

import math
import struct
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd
from autograd import CompileError, CompileWarning, Primitive, Value, rules
from autograd.compiler import WIDE
from autograd.testing import Expression, expressions


def bits(x: float) -> bytes:
    """The float's 64 bits; every nan the same (IEEE leaves a nan's sign and payload to the processor)."""
    return b"nan" if math.isnan(x) else struct.pack("<d", x)


def same_bits(a: Sequence[float], b: Sequence[float]) -> bool:
    """True when the two lists hold the same floats, bit for bit (so 0.0 != -0.0), nan where the other has nan."""
    return len(a) == len(b) and all(bits(x) == bits(y) for x, y in zip(a, b))


def dynamic(fn: Callable[..., Value], xs: Sequence[float]) -> list[float]:
    """[value, *gradients] from the dynamic engine; an exception's type if it raises."""
    inputs = [Value(x) for x in xs]
    out = fn(*inputs)
    out.backward()
    return [out.data, *(x.grad for x in inputs)]


def outcome(function: Callable[..., Any], *args: Any) -> Any:
    try:
        return function(*args)
    except (ArithmeticError, ValueError) as error:
        return type(error)


SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e-300, -1e300, math.inf, -math.inf, math.nan, 700.0, 1e-8]


class TestTheChecker:
    def test_same_bits_tells_zeros_apart_and_matches_nan(self) -> None:
        assert same_bits([math.nan, 1.0], [-math.nan, 1.0])
        assert not same_bits([math.nan], [math.inf])
        assert not same_bits([0.0], [-0.0])
        assert not same_bits([1.0], [1.0 + 2**-52])

    def test_a_wrong_template_is_caught(self) -> None:
        wrong = Primitive("twice", lambda x: 2.0 * x, lambda x, out: (2.0,), py=("2.0 * {0}", ("2.0000000000000004",)))
        compiled = autograd.compile(lambda x: wrong(x), 1.5)
        value, grads = compiled.function(1.5)
        assert not same_bits([value, *grads], dynamic(lambda x: wrong(x), [1.5]))

    def test_a_template_that_adds_in_another_order_is_caught(self) -> None:
        # the same sum, another association: the bits differ, as this test must notice
        reordered = Primitive(
            "sum3",
            lambda a, b, c: a + b + c,
            lambda a, b, c, out: (1.0, 1.0, 1.0),
            arity=3,
            py=("{0} + ({1} + {2})", ("1.0", "1.0", "1.0")),
        )
        xs = [0.1, 0.2, 0.3]
        compiled = autograd.compile(lambda a, b, c: reordered(a, b, c), *xs)
        value, grads = compiled.function(*xs)
        assert not same_bits([value, *grads], dynamic(lambda a, b, c: reordered(a, b, c), xs))


class TestCompile:
    def test_the_source_reads_as_backprop_written_out(self) -> None:
        f = autograd.compile(lambda x, y: (x * y).tanh(), 0.5, 2.0)
        assert f.source.splitlines()[0] == "def compiled(x, y):"
        assert "v1 = tanh(v0)" in f.source
        assert "g_v0 = (1.0 - v1 * v1) * g_v1" in f.source

    @given(expressions(size=(1, 10)), st.data())
    def test_expressions_replayed_on_new_values_are_the_dynamic_engines_bits(
        self, expression: Expression, data: st.DataObject
    ) -> None:
        compiled = autograd.compile(expression.evaluate, *expression.point)
        for xs in (
            expression.point,
            [data.draw(st.floats(-3, 3) | st.sampled_from(SPECIAL)) for _ in expression.point],
            [data.draw(st.sampled_from(SPECIAL)) for _ in expression.point],
        ):
            expected = outcome(dynamic, expression.evaluate, xs)
            got = outcome(compiled.function, *xs)
            if isinstance(expected, type):  # the dynamic engine refused: so does the compiled code
                assert isinstance(got, type), (xs, got)
                continue
            assert not isinstance(got, type), (xs, expected, got)
            value, grads = got
            assert same_bits([value, *grads], expected), (str(expression), xs, expected, [value, *grads])

    def test_zero_gradients_nan_and_inf_travel_as_in_backward(self) -> None:
        def fn(x: Value, y: Value) -> Value:
            return (x * 0.0).relu() * y + (y / x).sqrt()

        compiled = autograd.compile(fn, 1.0, 1.0)
        for xs in ([1.0, 1.0], [-0.0, 0.0], [0.0, 4.0], [math.inf, 1.0], [2.0, math.nan], [1e-320, 1e300]):
            expected = outcome(dynamic, fn, xs)
            got = outcome(compiled.function, *xs)
            if isinstance(expected, type):
                assert isinstance(got, type)
            else:
                assert same_bits([got[0], *got[1]], expected), xs

    def test_an_input_used_nowhere_or_returned_has_the_gradient_backward_gives(self) -> None:
        assert autograd.compile(lambda x, y: x * 3.0, 1.0, 2.0)(2.0, 5.0) == (6.0, (3.0, 0.0))
        assert autograd.compile(lambda x, y: y, 1.0, 2.0)(4.0, 5.0) == (5.0, (0.0, 1.0))

    def test_values_made_inside_are_constants(self) -> None:
        f = autograd.compile(lambda x: x * Value(3.0), 1.0)
        assert f(2.0) == (6.0, (3.0,))

    def test_a_user_primitive_without_a_template_is_called_exactly(self) -> None:
        softsign = Primitive("softsign", lambda x: x / (1 + abs(x)), lambda x, out: (1 / (1 + abs(x)) ** 2,))
        f = autograd.compile(lambda x: softsign(x * 2.0).exp(), 0.3)
        assert "softsign_forward(" in f.source
        for x in (0.3, -1.7, 0.0, 12.5):
            value, grads = f(x)
            assert same_bits([value, *grads], dynamic(lambda v: softsign(v * 2.0).exp(), [x]))

    def test_wide_sums_and_dots_call_their_forward_on_runs(self) -> None:
        n = WIDE + 5
        xs = [0.1 * k - 3.0 for k in range(n)]
        f = autograd.compile(lambda *v: autograd.dot(v, v[::-1], 0.5) + autograd.sum(v), *xs)
        assert "dot_forward(*T0, 0.5)" in f.source
        assert "sum_forward(*T1)" in f.source
        value, grads = f(*xs)
        assert same_bits([value, *grads], dynamic(lambda *v: autograd.dot(v, v[::-1], 0.5) + autograd.sum(v), xs))


class TestGuards:
    def test_an_error_in_compiled_code_reruns_the_dynamic_engine_and_raises_its_error(self) -> None:
        f = autograd.compile(lambda x: x.log(), 1.0)
        with pytest.warns(CompileWarning, match="dynamic engine"), pytest.raises(ValueError, match=r"log of -1\.0"):
            f(-1.0)

    def test_a_non_finite_result_reruns_the_dynamic_engine_once_said(self) -> None:
        f = autograd.compile(lambda x: x.sqrt(), 1.0)
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            results = [f(0.0), f(0.0)]
        assert results == [(0.0, (math.inf,))] * 2
        assert [w.category for w in said] == [CompileWarning]

    def test_finite_calls_say_nothing(self) -> None:
        f = autograd.compile(lambda x: x.tanh(), 1.0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            f(0.25)

    @pytest.mark.parametrize(
        ("call", "error", "message"),
        [
            (lambda f: f(1.0), TypeError, "takes 2 numbers, got 1"),
            (lambda f: f(1.0, "2"), TypeError, "input 1 must be a real number, not str"),
            (lambda f: f(True, 1.0), TypeError, "input 0 must be a real number, not bool"),
        ],
    )
    def test_bad_calls_are_refused(self, call: Callable[[Any], Any], error: type, message: str) -> None:
        f = autograd.compile(lambda x, y: x * y, 1.0, 2.0)
        with pytest.raises(error, match=message):
            call(f)

    def test_a_function_that_compares_values_is_refused_at_compile_time(self) -> None:
        with pytest.raises(CompileError, match=r"compares Values \(Value\(data=2\.0, grad=0\.0\) > 0\)"):
            autograd.compile(lambda x: x if x > 0 else x * -0.1, 2.0)
        assert Value.__gt__ is Value.__dict__["__gt__"]  # the comparisons are Value's own again
        assert autograd.compile(lambda x: x.leaky_relu(0.1), 2.0)(-3.0)[0] == -3.0 * 0.1

    def test_other_threads_compare_freely_while_one_traces(self) -> None:
        started, go_on = threading.Event(), threading.Event()
        results: list[bool] = []

        def slow(x: Value) -> Value:
            started.set()
            go_on.wait(5)
            return x * 2.0

        def trace() -> None:
            autograd.compile(slow, 1.0)

        tracer = threading.Thread(target=trace)
        tracer.start()
        started.wait(5)
        results.append(Value(3.0) > 1.0)  # this thread is not tracing: no refusal anywhere
        go_on.set()
        tracer.join()
        assert results == [True]
        assert not hasattr(Value.__gt__, "__wrapped__")

    def test_bad_functions_are_refused(self) -> None:
        with pytest.raises(CompileError, match="must return a Value, not float"):
            autograd.compile(lambda x: 3.0, 1.0)
        with pytest.raises(TypeError, match="takes a function"):
            autograd.compile(3.0, 1.0)  # type: ignore[arg-type]

    def test_a_bad_template_field_is_refused(self) -> None:
        with pytest.raises(TypeError, match="two Python source templates"):
            Primitive("p", abs, lambda x, out: (1.0,), py=("abs({0})",))  # type: ignore[arg-type]


class TestTable:
    def test_every_row_has_a_python_template(self) -> None:
        assert [name for name, p in rules.PRIMITIVES.items() if p.py is None] == []


class TestCompileBatch:
    def setup_method(self) -> None:
        self.w = [Value(0.5), Value(-1.5), Value(0.25)]

    def example(self, xs: list[Value]) -> tuple[Value, Value]:
        w0, w1, b = self.w
        out = (w0 * xs[0] + w1 * xs[1] + b).tanh()
        return (out - xs[2]) ** 2, out

    def dynamic(self, rows: list[tuple[float, ...]]) -> list[float]:
        for p in self.w:
            p.grad = 0.0
        terms = [self.example([Value(x) for x in row])[0] for row in rows]
        loss = autograd.sum(terms) * (1.0 / len(terms)) + 0.01 * autograd.dot(self.w, self.w)
        loss.backward()
        return [loss.data, *(p.grad for p in self.w)]

    def test_a_step_gives_the_dynamic_bits_and_the_outputs(self) -> None:
        rows = [(0.1 * k, 1.0 - 0.2 * k, (-1.0) ** k) for k in range(7)]

        def total(terms: list[Value]) -> Value:
            return autograd.sum(terms) * (1.0 / len(terms)) + 0.01 * autograd.dot(self.w, self.w)

        step = autograd.compile_batch(self.w, self.example, total, rows[0], len(rows), ["w0", "w1", "b"])
        loss, outputs, grads = step([p.data for p in self.w], rows)
        assert same_bits([loss, *grads], self.dynamic(rows))
        assert outputs == [self.example([Value(x) for x in row])[1].data for row in rows]
        with pytest.raises(ValueError, match="batches of 7 examples, not 3"):
            step([p.data for p in self.w], rows[:3])

    @pytest.mark.parametrize(
        ("change", "error", "message"),
        [
            ({"size": 0}, ValueError, "batch size must be a positive int, not 0"),
            ({"size": 2.0}, ValueError, "batch size must be a positive int, not 2.0"),
            ({"row": ("a", 1.0, 2.0)}, TypeError, "input 0 must be a real number, not str"),
            ({"parameters": [1.0, 2.0]}, TypeError, "parameters must be Values"),
        ],
    )
    def test_bad_arguments_are_refused_by_name(self, change: dict[str, Any], error: type, message: str) -> None:
        given = {"parameters": self.w, "row": (0.0, 0.0, 0.0), "size": 2, **change}
        with pytest.raises(error, match=message):
            autograd.compile_batch(given["parameters"], self.example, autograd.sum, given["row"], given["size"])
        with pytest.raises(CompileError, match="listed twice"):
            autograd.compile_batch([self.w[0], self.w[0]], self.example, autograd.sum, (0.0, 0.0, 0.0), 2)

    def test_a_loss_that_does_not_sum_the_terms_once_is_refused(self) -> None:
        def twice(terms: list[Value]) -> Value:
            return autograd.sum(terms) + terms[0]

        with pytest.raises(CompileError, match="one sum node"):
            autograd.compile_batch(self.w, self.example, twice, (0.0, 0.0, 0.0), 3)

    def test_a_leaf_that_is_neither_parameter_nor_input_is_refused(self) -> None:
        hidden = Value(2.0)  # say, a running statistic: freezing it would be wrong

        def example(xs: list[Value]) -> tuple[Value, Value]:
            out = self.w[0] * xs[0] * hidden
            return out * out, out

        with pytest.raises(CompileError, match="neither a parameter nor an input"):
            autograd.compile_batch(self.w, example, autograd.sum, (1.0,), 2)
