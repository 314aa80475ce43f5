"""``python -m nn train | eval | predict ...``: see `nn.cli`."""

from nn.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
