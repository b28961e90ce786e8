"""The files a run leaves behind, one module per kind of record; what each job does with them is
`tradeoffs.jobs`'s. A run that could not happen (backend absent) or broke in a way the study
should show (diverged, out of memory) still leaves every file, with `status` and `reason`.

- `provenance`: who, where and with what a record was made (every record's `provenance`).
- `nulls`: a null always says why (`measured`), and the reasons several records share.
- `history`: history.csv, one row per epoch (`Epoch`).
- `train`: train.json's training keys and the train outputs every engine writes.
- `not_run`: the train outputs of a run that did not train, and the status later stages pass on.
- `eval`: eval/{dataset}.json with its tables, and eval_corrupted.json.
- `predictions`: the per-example predictions files of the evaluations.
- `metrics`: metrics.json, the stage records merged and checked against the schema.
- `validate`: every record read back is checked against its schema before a number is used.
"""
