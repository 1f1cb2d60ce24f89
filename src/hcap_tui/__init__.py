"""hcap: distil an expensive LLM labeller into a small local model, one reviewed comment at a time."""

__version__ = "0.1.0"

DATA_DIR_ENV = "HCAP_DATA_DIR"
"""The environment variable naming the data folder (here, so the command line can name it without loading more)."""
