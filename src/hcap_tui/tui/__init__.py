"""The Textual review app (`hcap-tui review`): the only package of hcap that imports Textual."""
