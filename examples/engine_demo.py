"""Build a small expression, run backward, and print every gradient.

Run: python examples/engine_demo.py
"""

from autograd import Value, topological_order


def main() -> None:
    x = Value(2.0, label="x")
    w = Value(-3.0, label="w")
    b = Value(6.8813735870195432, label="b")
    n = x * w + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    print(f"o = tanh(x*w + b) = {o.data:.6f}")
    for node in [x, w, b, *reversed(topological_order(o))]:
        name = node.label or node.op
        print(f"  d o / d {name:<2} = {node.grad:+.6f}")


if __name__ == "__main__":
    main()
