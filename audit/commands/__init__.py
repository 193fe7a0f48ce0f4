"""The commands' orchestration: what `audit run`, `audit reasons` and `audit compare` do, in order (the
session they share, the budget, the cluster, MLflow). Each module only calls the measures and the gate."""
