"""``python -m autograd EXPRESSION name=value ... [-o graph.svg]``: see `autograd.cli`."""

import autograd

if getattr(autograd, "__distribution__", None) != "chainrule":
    import nn  # noqa: F401 (its import refuses another project's autograd, and says how to fix it)

from autograd.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
