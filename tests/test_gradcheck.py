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
        assert "x[0]" in message
        assert "x[1]" in message
        lines = {line.split()[0]: line for line in message.splitlines() if line.strip().startswith("x[")}
        assert "mismatch" in lines["x[0]"]
        assert "mismatch" not in lines["x[1]"]
        assert f"{2 * 1.01 * math.cos(0.4):.15g}" in lines["x[0]"]  # the analytic value shown
        assert isinstance(caught.value, AssertionError)

    def test_return_false_instead(self) -> None:
        assert gradcheck(lambda x: bad_sin(x), [0.4], raise_exception=False) is False

    def test_touches_no_grad(self) -> None:
        x = Value(0.5)
        gradcheck(lambda v: v * v, [x])
        assert x.grad == 0.0

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

    def test_bad_eps(self) -> None:
        with pytest.raises(ValueError, match="eps"):
            gradcheck(lambda x: x, [1.0], eps=0.0)

    def test_numerical_gradient_is_central(self) -> None:
        # for a cubic, the central difference error is exactly eps^2 (the third derivative / 6 * 2)
        (slope,) = numerical_gradient(lambda x: x * x * x, [1.0], eps=1e-2)
        assert slope == pytest.approx(3.0 + 1e-4, rel=1e-9)


class TestGradgradcheck:
    def test_passes_on_the_engine(self) -> None:
        assert gradgradcheck(lambda x, y: x * x * y + (x * y).sin() + y.sqrt(), [1.5, 0.4])

    def test_catches_a_rule_that_cannot_be_differentiated_again(self) -> None:
        assert gradcheck(lambda x: bad_second(x), [0.5])  # the first derivative is right
        with pytest.raises(GradcheckError, match=r"x\[0\],x\[0\].*mismatch"):
            gradgradcheck(lambda x: bad_second(x), [0.5])
