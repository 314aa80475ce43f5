"""Build the README's neuron, run backward, and print every gradient.

Run: python examples/engine_demo.py
"""

from autograd import Value, topological_order


def neuron() -> Value:
    """The README's neuron, o = tanh(x1*w1 + x2*w2 + b), after backward."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o


def main() -> None:
    o = neuron()
    print(f"o = tanh(x1*w1 + x2*w2 + b) = {o.data:.6f}")
    for node in reversed(topological_order(o, leaves=True)):  # the output first, then back towards the inputs
        name = node.label or node.op
        print(f"  d o / d {name:<3} = {node.grad:+.6f}")


if __name__ == "__main__":
    main()
