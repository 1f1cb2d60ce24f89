"""The review core, with no UI: what the review app shows and what approving, undoing and moving do on disk.

- `sources`: the label files a reviewer turns into gold (one tab each) and `GoldBook`, the gold they share;
- `reader`: reading a source in chunks for a worker thread (an item's parts are `hcap_tui.input_parts`'s);
- `session`: one tab's items, position, drafts, approvals and resume; `navigation`, `order`: filters, moves and
  the visiting order; `suspects`: the teacher's labels most suspect first; `checks`: the warnings an approval
  needs a second Enter for; `races`: gold per race;
- `writer`: the disk work of approve and undo, run off the UI thread; `held_keys`, `throttle`: keys typed while
  that work runs, and how often a moving position is saved;
- `errors`: why a step was refused.
"""
