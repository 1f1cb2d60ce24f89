"""`hcap apply`: label the whole archive with a model, resumably, into one flat line per comment.

- `output`: the output file (signals.jsonl): its line layout, comment keys, the scan a rerun starts
  from, compaction to one line per comment and the one-run-at-a-time lock;
- `run`: the plan (what to label, in one pass over the CSV) and the live run through the batch driver;
- `batch`: OpenAI batch request files for offline services, and reading their results like live answers;
- `table`: the output joined with the input CSV as a CSV table.
"""
