"""hcap: distil an expensive LLM labeller into a small local model, one reviewed comment at a time."""

__version__ = "0.1.0"
