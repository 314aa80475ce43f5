"""The Value itself: construction, what it exposes, operators and their types, errors that teach."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

import autograd
from autograd import Value


class TestConstruction:
    @pytest.mark.parametrize(
        ("given", "stored"), [(3, 3.0), (True, 1.0), (False, 0.0), (2.5, 2.5), (Fraction(1, 4), 0.25)]
    )
    def test_real_numbers_become_floats(self, given: object, stored: float) -> None:
        v = Value(given)  # type: ignore[arg-type]
        assert type(v.data) is float
        assert v.data == stored
        assert v.grad == 0.0

    @pytest.mark.parametrize("bad", ["1.0", None, [1.0], 1 + 2j, {}])
    def test_anything_else_is_a_type_error_naming_the_type(self, bad: object) -> None:
        with pytest.raises(TypeError, match=type(bad).__name__):
            Value(bad)  # type: ignore[arg-type]

    def test_a_value_is_not_wrapped_twice(self) -> None:
        with pytest.raises(TypeError, match=r"v\.data"):
            Value(Value(1.0))  # type: ignore[arg-type]

    def test_label_must_be_text(self) -> None:
        assert Value(1.0, label="w1").label == "w1"
        with pytest.raises(TypeError, match="label"):
            Value(1.0, label=3)  # type: ignore[arg-type]

    def test_repr_reads_like_micrograd(self) -> None:
        assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
        assert repr(Value(-1.5, label="b")) == "Value(data=-1.5, grad=0.0, label='b')"


class TestGraphRecord:
    def test_a_leaf_has_no_op_and_no_parents(self) -> None:
        x = Value(1.0)
        assert x.is_leaf
        assert (x.op, x.primitive, x.parents, x.operands, x.local_grads) == ("", None, (), (), ())

    def test_a_node_records_op_operands_and_local_derivatives(self) -> None:
        x, y = Value(2.0), Value(5.0)
        z = x * y
        assert not z.is_leaf
        assert z.op == "mul"
        assert z.parents == (x, y)
        assert z.local_grads == (5.0, 2.0)

    def test_numbers_are_recorded_as_constants_not_parents(self) -> None:
        x = Value(2.0)
        z = 3.0 / x
        assert z.operands == (3.0, x)
        assert z.parents == (x,)
        assert z.local_grads == (-0.75,)

    def test_record_is_read_only(self) -> None:
        z = Value(1.0) + 1
        with pytest.raises(AttributeError):
            z.op = "*"  # type: ignore[misc]
        with pytest.raises(AttributeError):
            z.parents = ()  # type: ignore[misc]

    def test_subtraction_is_addition_of_the_negation(self) -> None:
        x, y = Value(5.0), Value(3.0)
        z = x - y
        assert z.op == "add"
        assert z.parents[1].op == "neg"
        assert z.data == 2.0


class TestOperators:
    def test_values_and_numbers_on_either_side(self) -> None:
        x = Value(3.0)
        results = [x + 1, 1 + x, x - 1, 1 - x, x * 2, 2 * x, x / 2, 6 / x, x**2, 2**x, -x, abs(-x)]
        assert [r.data for r in results] == [4.0, 4.0, 2.0, -2.0, 6.0, 6.0, 1.5, 2.0, 9.0, 8.0, -3.0, 3.0]
        assert all(isinstance(r, Value) for r in results)

    def test_value_exponent(self) -> None:
        z = Value(2.0) ** Value(10.0)
        assert z.data == 1024.0
        assert z.op == "pow"
        assert len(z.parents) == 2

    @pytest.mark.parametrize("other", ["a", None, [1.0], 1j])
    def test_unsupported_operands_give_pythons_type_error(self, other: object) -> None:
        x = Value(1.0)
        for operation in (
            lambda: x + other,
            lambda: x - other,
            lambda: x * other,
            lambda: x / other,
            lambda: x**other,
            lambda: x < other,
        ):
            with pytest.raises(TypeError, match=r"unsupported operand|not supported|can.t multiply sequence"):
                operation()
        for reflected in (lambda: other + x, lambda: other - x, lambda: other * x, lambda: other / x):
            with pytest.raises(TypeError):  # the message is the left operand's (str, list: "concatenate")
                reflected()

    def test_ordering_compares_data_and_equality_is_identity(self) -> None:
        a, b = Value(1.0), Value(1.0)
        assert a <= b
        assert a >= b
        assert not a < b
        assert not a > b
        assert a < 2
        assert a < 2
        assert a != b
        assert a == a
        assert len({a, b}) == 2
        assert max([Value(3.0), Value(7.0), Value(5.0)]).data == 7.0

    def test_functions_work_on_numbers_and_on_values(self) -> None:
        assert autograd.exp(1.0) == math.e
        assert autograd.tanh(Value(0.5)).data == math.tanh(0.5)
        assert isinstance(autograd.relu(Value(-1.0)), Value)
        with pytest.raises(TypeError, match="str"):
            autograd.exp("1")  # type: ignore[arg-type]


class TestDomainErrors:
    @pytest.mark.parametrize("x", [0.0, -0.0, -2.5])
    def test_log_outside_its_domain(self, x: float) -> None:
        with pytest.raises(ValueError, match=rf"log of {x!r}"):
            Value(x).log()

    def test_sqrt_of_a_negative(self) -> None:
        with pytest.raises(ValueError, match=r"sqrt of -4\.0"):
            Value(-4.0).sqrt()

    @pytest.mark.parametrize(
        "divide", [lambda: Value(1.0) / 0, lambda: Value(1.0) / Value(0.0), lambda: 1.0 / Value(0.0)]
    )
    def test_division_by_zero(self, divide: object) -> None:
        with pytest.raises(ZeroDivisionError, match="'/'"):
            divide()  # type: ignore[operator]

    def test_zero_to_a_negative_power(self) -> None:
        with pytest.raises(ZeroDivisionError, match=r"'\*\*'"):
            Value(0.0) ** -1

    def test_exp_overflow_names_exp(self) -> None:
        with pytest.raises(OverflowError, match="exp"):
            Value(710.0).exp()
        assert Value(709.0).exp().data == math.exp(709.0)

    def test_power_overflow_names_the_op(self) -> None:
        with pytest.raises(OverflowError, match=r"'\*\*'"):
            Value(10.0) ** 400

    @pytest.mark.parametrize("exponent", [0.5, Value(1 / 3)])
    def test_negative_base_with_non_integer_exponent_is_never_complex(self, exponent: object) -> None:
        with pytest.raises(ValueError, match="negative base"):
            Value(-8.0) ** exponent  # type: ignore[operator]
        with pytest.raises(ValueError, match="negative base"):
            (-8.0) ** Value(0.5)

    def test_negative_base_with_integer_exponent_is_fine(self) -> None:
        x = Value(-2.0)
        y = x**3
        y.backward()
        assert (y.data, x.grad) == (-8.0, 12.0)

    @pytest.mark.parametrize("x", [1000.0, -1000.0])
    def test_sigmoid_and_tanh_are_stable_far_out(self, x: float) -> None:
        for f in (Value.sigmoid, Value.tanh):
            v = Value(x)
            y = f(v)
            y.backward()
            assert math.isfinite(y.data)
            assert math.isfinite(v.grad)
            assert v.grad == 0.0
        assert Value(x).sigmoid().data == (1.0 if x > 0 else 0.0)


class TestConventions:
    """Derivatives at points where the function has a kink or a vertical tangent: PyTorch's choices."""

    def grad_of(self, f: object, x: float) -> float:
        v = Value(x)
        f(v).backward()  # type: ignore[operator]
        return v.grad

    def test_relu_and_abs_have_zero_slope_at_zero(self) -> None:
        assert self.grad_of(Value.relu, 0.0) == 0.0
        assert self.grad_of(abs, 0.0) == 0.0

    def test_leaky_relu_has_the_slope_as_its_slope_at_zero(self) -> None:
        assert self.grad_of(Value.leaky_relu, 0.0) == 0.01  # PyTorch's convention (tests/test_torch.py)
        assert self.grad_of(lambda v: v.leaky_relu(0.2), 0.0) == 0.2
        assert self.grad_of(lambda v: v.leaky_relu(slope=0.2), -0.0) == 0.2

    def test_leaky_relu_slope_is_a_constant_or_a_value(self) -> None:
        x = Value(-2.0)
        y = x.leaky_relu(0.1)
        assert (y.data, y.operands) == (-0.2, (x, 0.1))
        slope = Value(0.1)
        z = x.leaky_relu(slope)
        z.backward()
        assert (x.grad, slope.grad) == (0.1, -2.0)
        with pytest.raises(TypeError, match="'leaky_relu' takes Values or real numbers, not str"):
            x.leaky_relu("0.1")  # type: ignore[arg-type]

    def test_sqrt_slope_at_zero_is_infinite(self) -> None:
        assert self.grad_of(Value.sqrt, 0.0) == math.inf
        assert self.grad_of(lambda v: v**0.5, 0.0) == math.inf

    def test_power_at_a_zero_base(self) -> None:
        a, b = Value(0.0), Value(2.0)
        (a**b).backward()
        assert (a.grad, b.grad) == (0.0, 0.0)  # d/db of a**b at a = 0 is 0

    def test_zero_exponent_has_zero_slope_in_the_base(self) -> None:
        assert self.grad_of(lambda v: v**0, 0.0) == 0.0

    def test_exponent_slope_for_a_negative_base_is_nan(self) -> None:
        a, b = Value(-2.0), Value(3.0)
        (a**b).backward()
        assert a.grad == 12.0
        assert math.isnan(b.grad)
