"""``python -m rehabflow``: the same command line as the ``rehabflow`` console script."""

from rehabflow.cli import main

if __name__ == "__main__":
    main()
