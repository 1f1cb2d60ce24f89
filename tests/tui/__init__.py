"""Tests of the Textual review app."""
