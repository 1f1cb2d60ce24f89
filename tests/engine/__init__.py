"""Real inference engines for tests: llama-server from the xllamacpp wheel, serving the tiny fixture model."""
