"""Tests of `hcap train` that need the `train` extra (torch, transformers, peft, trl, datasets, sentencepiece)."""
