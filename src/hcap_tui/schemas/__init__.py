"""Label schema files shipped with hcap (package data)."""
