"""Build a small expression, run backward, and print every gradient.

Run: python examples/engine_demo.py
"""

from autograd import Value, topological_order


def main() -> None:
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    print(f"o = tanh(x1*w1 + x2*w2 + b) = {o.data:.6f}")
    for node in [x1, x2, w1, w2, b, *reversed(topological_order(o))]:
        name = node.label or node.op
        print(f"  d o / d {name:<2} = {node.grad:+.6f}")


if __name__ == "__main__":
    main()
