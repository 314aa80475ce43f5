"""``python -m autograd EXPRESSION name=value ... [-o graph.svg]``: see `autograd.cli`."""

from autograd.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
