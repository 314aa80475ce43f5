"""Reference answers to the notebooks' exercises, and a wrong answer each check must reject.

The notebooks are committed with their exercises unanswered. `test_notebook_exercises`
runs each notebook with the answer cell's source replaced by `answer` and expects the check
cell to print "correct"; then, in the same kernel, it runs `wrong` and expects the check to fail.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    """One exercise: the cell the learner edits, the cell that checks it, and two fillings."""

    answer_cell: str
    check_cell: str
    answer: str  # the answer cell's source, solved
    wrong: str  # the answer cell's source with a plausible mistake


EXERCISES: dict[str, list[Exercise]] = {
    "01_derivatives_and_the_chain_rule.ipynb": [
        Exercise(
            "cell-18",
            "cell-19",
            answer="import math\n\nmy_dy_dw = (1 - math.tanh(0.5 * -2 + 1.5) ** 2) * 0.5  # dy/dz · dz/dw, dz/dw = x",
            wrong="import math\n\nmy_dy_dw = (1 - math.tanh(0.5 * -2 + 1.5) ** 2) * -2.0  # dz/dw taken as w",
        )
    ],
    "02_backpropagation_by_hand.ipynb": [
        Exercise(
            "cell-12",
            "cell-13",
            answer="""new_t = [-0.5, 0.6]
my_delta2 = [(o - target) * (1 - o**2) for o, target in zip(x2, new_t)]
my_delta1 = [(1 - h**2) * sum(W2[k][j] * my_delta2[k] for k in range(2)) for j, h in enumerate(x1)]
""",
            wrong="""new_t = [-0.5, 0.6]
my_delta2 = [o - target for o, target in zip(x2, new_t)]  # forgets f'(z) at the output
my_delta1 = [(1 - h**2) * sum(W2[k][j] * my_delta2[k] for k in range(2)) for j, h in enumerate(x1)]
""",
        )
    ],
    "03_from_a_neuron_to_an_mlp.ipynb": [
        Exercise(
            "cell-15",
            "cell-16",
            answer="my_count = (3 + 1) * 4 + (4 + 1) * 4 + (4 + 1) * 2",
            wrong="my_count = 3 * 4 + 4 * 4 + 4 * 2  # forgets the biases",
        )
    ],
    "04_checking_gradients.ipynb": [
        Exercise(
            "cell-14",
            "cell-15",
            answer="""def good_cube_rule(x, out):
    return (3 * x * x,)


good_cube = Primitive("good_cube", lambda x: x**3, good_cube_rule)
""",
            wrong="""def good_cube_rule(x, out):
    return (3 * x * abs(x),)  # the bug the notebook found


good_cube = Primitive("good_cube", lambda x: x**3, good_cube_rule)
""",
        )
    ],
    "05_beyond_first_derivatives.ipynb": [
        Exercise(
            "cell-15",
            "cell-16",
            answer="""x = Value(1.0)
(first,) = grad(x * x.sin(), [x], create_graph=True)
(my_second,) = grad(first, [x])
""",
            wrong="""x = Value(1.0)
(my_second,) = grad(x * x.sin(), [x])  # only the first derivative
""",
        )
    ],
    "06_optimisation_in_practice.ipynb": [
        Exercise(
            "cell-14",
            "cell-15",
            answer="""a, my_derivative = 0.0, 1.0
for _ in range(10):
    a = 1 / (1 + math.exp(-a))
    my_derivative *= a * (1 - a)
""",
            wrong="my_derivative = 0.25**10  # the bound, not the product",
        )
    ],
    "07_linear_and_logistic_regression.ipynb": [
        Exercise(
            "cell-22",
            "cell-23",
            answer="my_w = [0.0 - 0.001 * sum((0.0 - t_i) * row[j] for row, t_i in zip(X, t)) for j in range(2)]",
            # a step uphill: the sign of the update flipped
            wrong="my_w = [0.0 + 0.001 * sum((0.0 - t_i) * row[j] for row, t_i in zip(X, t)) for j in range(2)]",
        )
    ],
    "08_from_chainrule_to_pytorch.ipynb": [
        Exercise(
            "cell-13",
            "cell-14",
            answer="""point = torch.tensor([X[0]], dtype=torch.float64)
module.zero_grad()
torch.relu(module[0](point))[0, j].backward()  # neuron j's output, after its ReLU
my_row = module[0].weight.grad[j].tolist()
""",
            wrong="""point = torch.tensor([X[0]], dtype=torch.float64)
module.zero_grad()
module(point).sum().backward()  # the network's output, not the neuron's
my_row = module[0].weight.grad[j].tolist()
""",
        )
    ],
    "09_training_deeper.ipynb": [
        Exercise(
            "cell-15",
            "cell-16",
            answer="my_count = 5 * 3  # one tanh per hidden unit per step",
            wrong="my_count = 3  # one per hidden unit, forgetting the steps",
        )
    ],
    "10_backprop_written_out.ipynb": [
        Exercise(
            "cell-21",
            "cell-22",
            answer="""def my_capped(x):
    return x - (x - 1.0).relu()  # x, less how far it is above 1
""",
            # still chosen in Python: traced at 0.5, the compiled code always returns x
            wrong="""def my_capped(x):
    return x if x.data < 1 else x * 0.0 + 1.0
""",
        )
    ],
}
