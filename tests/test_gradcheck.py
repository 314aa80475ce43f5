"""gradcheck and gradgradcheck, and the tests of the checkers themselves on deliberately wrong rules."""

from __future__ import annotations

import math

import pytest

import autograd
from autograd import GradcheckError, Primitive, Value, gradcheck, gradgradcheck
from autograd.gradcheck import numerical_gradient

# A deliberately wrong derivative, made through the public extension point: d/dx sin x is cos x, not 1.01 cos x.
bad_sin = Primitive("bad_sin", math.sin, lambda x, out: (1.01 * autograd.cos(x),))
# Right first derivative, wrong second: the rule's own derivative should be -sin x, but cos(0.5) is a constant here.
bad_second = Primitive("bad_second", math.sin, lambda x, out: (autograd.data_of(autograd.cos(x)),))


class TestGradcheck:
    def test_passes_on_correct_derivatives(self) -> None:
        assert gradcheck(lambda x, y: (x * y).tanh() + y.exp() / x, [0.3, -1.2])
        assert gradcheck(lambda x: autograd.dot([x, x], [x.sin(), 2.0], 1.0), [Value(0.7)])

    def test_catches_a_wrong_rule_and_says_where(self) -> None:
        with pytest.raises(GradcheckError) as caught:
            gradcheck(lambda x, y: bad_sin(x) * 2 + y, [0.4, 1.0])
        message = str(caught.value)
        assert message.startswith("gradcheck at [0.4, 1.0]")
        assert "1 of 2 derivatives differ" in message
        lines = {line.split()[0]: line for line in message.splitlines() if line.strip().startswith("d/d")}
        assert set(lines) == {"d/dx[0]", "d/dx[1]"}
        assert "mismatch" in lines["d/dx[0]"]
        assert "mismatch" not in lines["d/dx[1]"]
        analytic, numeric, error = (float(word) for word in lines["d/dx[0]"].split()[1:4])
        assert analytic == pytest.approx(2 * 1.01 * math.cos(0.4), rel=1e-14)
        assert numeric == pytest.approx(2 * math.cos(0.4), rel=1e-8)
        assert error == pytest.approx(0.02 * math.cos(0.4), rel=1e-2)
        assert isinstance(caught.value, AssertionError)

    def test_names_inputs_by_their_labels(self) -> None:
        with pytest.raises(GradcheckError, match=r"d/dx\[1\] \(w\) .*mismatch"):
            gradcheck(lambda x, w: x * bad_sin(w), [Value(1.0, label="x"), Value(0.4, label="w")])

    def test_return_false_instead(self) -> None:
        assert gradcheck(lambda x: bad_sin(x), [0.4], raise_exception=False) is False

    def test_touches_no_grad(self) -> None:
        x = Value(0.5)
        x.grad = 7.0
        gradcheck(lambda v: v * v, [x])
        assert x.grad == 7.0
        assert x.is_leaf

    def test_tolerance_is_respected(self) -> None:
        # a 1% error passes a 2% relative tolerance and fails a 0.5% one
        assert gradcheck(lambda x: bad_sin(x), [0.4], rtol=0.02)
        assert not gradcheck(lambda x: bad_sin(x), [0.4], rtol=0.005, raise_exception=False)

    @pytest.mark.parametrize(
        ("f", "inputs", "error", "message"),
        [
            (lambda x: x, [], ValueError, "at least one input"),
            (lambda x: [x, x], [1.0], TypeError, "one scalar Value"),
            (lambda x: 3.0, [1.0], TypeError, "must return a Value, not float"),
            (lambda x: x, ["a"], TypeError, r"inputs\[0\]"),
            (lambda x: x, 1.0, TypeError, "sequence"),
            (lambda x: x, [math.nan], ValueError, "finite"),
        ],
    )
    def test_bad_arguments(self, f: object, inputs: object, error: type[Exception], message: str) -> None:
        with pytest.raises(error, match=message):
            gradcheck(f, inputs)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("tolerances", "error"),
        [
            ({"eps": 0.0}, ValueError),
            ({"eps": -1e-6}, ValueError),
            ({"eps": math.inf}, ValueError),
            ({"atol": -1.0}, ValueError),
            ({"rtol": math.nan}, ValueError),
            ({"eps": "small"}, TypeError),
            ({"atol": None}, TypeError),
        ],
    )
    def test_bad_tolerances(self, tolerances: dict[str, object], error: type[Exception]) -> None:
        name = next(iter(tolerances))
        with pytest.raises(error, match=name):
            gradcheck(lambda x: x, [1.0], **tolerances)  # type: ignore[arg-type]

    def test_type_errors_are_raised_even_without_raise_exception(self) -> None:
        with pytest.raises(TypeError, match="must return a Value"):
            gradcheck(lambda x: 1.0, [1.0], raise_exception=False)

    def test_works_inside_no_grad(self) -> None:
        with autograd.no_grad():
            assert gradcheck(lambda x: x * x, [3.0])
            assert not gradcheck(lambda x: bad_sin(x), [0.4], raise_exception=False)
            assert gradgradcheck(lambda x: x * x * x, [3.0])
            assert not autograd.is_grad_enabled()

    def test_a_function_independent_of_an_input_has_zero_derivative_there(self) -> None:
        assert gradcheck(lambda x, y: x.exp(), [0.5, 3.0])
        assert gradcheck(lambda x: x, [2.0])  # f returns its own input

    def test_numerical_gradient_is_central(self) -> None:
        # for a cubic, the central difference error is exactly eps^2 (the third derivative / 6 * 2)
        (slope,) = numerical_gradient(lambda x: x * x * x, [1.0], eps=1e-2)
        assert slope == pytest.approx(3.0 + 1e-4, rel=1e-9)


class TestGradgradcheck:
    def test_passes_on_the_engine(self) -> None:
        assert gradgradcheck(lambda x, y: x * x * y + (x * y).sin() + y.sqrt(), [1.5, 0.4])

    def test_passes_on_linear_functions_whose_first_derivatives_are_constants(self) -> None:
        assert gradgradcheck(lambda x, y: 3 * x - y + 1, [0.2, -0.7])

    def test_catches_a_rule_that_cannot_be_differentiated_again(self) -> None:
        assert gradcheck(lambda x: bad_second(x), [0.5])  # the first derivative is right
        with pytest.raises(GradcheckError, match=r"d2/dx\[0\] dx\[0\] .*mismatch") as caught:
            gradgradcheck(lambda x: bad_second(x), [0.5])
        analytic, numeric = (float(word) for word in str(caught.value).splitlines()[2].split()[2:4])
        assert analytic == 0.0  # the rule returned a constant
        assert numeric == pytest.approx(-math.sin(0.5), rel=1e-6)

    def test_lists_every_entry_of_the_hessian(self) -> None:
        assert not gradgradcheck(lambda x, y: bad_second(x) * y, [0.5, 2.0], raise_exception=False)
        with pytest.raises(GradcheckError) as caught:
            gradgradcheck(lambda x, y: bad_second(x) * y, [0.5, 2.0])
        rows = [line.split()[0] + " " + line.split()[1] for line in str(caught.value).splitlines()[2:6]]
        assert rows == ["d2/dx[0] dx[0]", "d2/dx[1] dx[0]", "d2/dx[0] dx[1]", "d2/dx[1] dx[1]"]
        assert "1 of 4 derivatives differ" in str(caught.value)


class TestRoughSpots:
    """A mismatch report names the operations evaluated where the table says they are not smooth."""

    def test_a_kink_is_named_as_the_likely_cause(self) -> None:
        with pytest.raises(GradcheckError, match=r"note: .* relu\(1e-09\) there"):
            gradcheck(lambda x: (x * 1.0).relu() + x.exp(), [1e-9])

    def test_a_wrong_rule_at_a_smooth_point_gets_no_note(self) -> None:
        wrong = Primitive("wrong_exp", math.exp, lambda x, out: (1.1 * out,))
        with pytest.raises(GradcheckError) as caught:
            gradcheck(lambda x: wrong(x), [0.5])
        assert "note:" not in str(caught.value)

    def test_gradgradcheck_names_them_too(self) -> None:
        with pytest.raises(GradcheckError, match=r"note: .*abs\(1e-09\)"):
            gradgradcheck(lambda x: abs(x) * x * x, [1e-9], atol=1e-12, rtol=1e-12)
