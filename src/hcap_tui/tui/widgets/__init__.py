"""Widgets of the review screen, one module per region: item, controls, status, placeholders, the pane."""
