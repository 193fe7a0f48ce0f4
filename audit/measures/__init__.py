"""The measures: pure functions (and their records) over the model's outputs and explanations:
agreement, decisions and reasons, direction words, reference, stability, fairness and grouping,
performance, protected attributes, the validator's evidence."""
