#!/usr/bin/env bash
# Mutation score of the modules that decide the verdict, each against its fast test subset.
# A benchmark, not a CI step: one module at a time, one mutant at a time (2-core friendly).
# Usage: bash bench/mutation.sh [module-key ...]   (keys: gate decisions metrics scoring allowlist model)
set -u
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${OUT:-bench/mutation-results}
mkdir -p "$OUT"
declare -A MODULE TESTS
MODULE[gate]=audit/gate.py
TESTS[gate]="tests/gate"
MODULE[decisions]=audit/measures/decisions.py
TESTS[decisions]="tests/test_decisions.py tests/test_decisions_signs.py -k \"not tree_path\""
MODULE[metrics]=audit/faithfulness/metrics.py
TESTS[metrics]="--noconftest tests/faithfulness/test_metrics_values.py"
MODULE[scoring]=audit/faithfulness/scoring.py
TESTS[scoring]="--noconftest tests/faithfulness/test_scoring_values.py tests/faithfulness/test_known_truth.py tests/faithfulness/test_scoring_strength.py"
MODULE[allowlist]=audit/loading/_allowlist.py
TESTS[allowlist]="tests/loading/test_loader_refusals.py tests/loading/test_safe_pickle.py -k \"not os_system\""
MODULE[model]=audit/loading/_model.py
TESTS[model]="tests/loading/test_loader_refusals.py tests/loading/test_safe_pickle.py -k \"not os_system\""
keys=("$@")
[ ${#keys[@]} -eq 0 ] && keys=(gate allowlist model decisions scoring metrics)
for k in "${keys[@]}"; do
  "$PY" bench/mutate.py "${MODULE[$k]}" --tests "${TESTS[$k]}" --timeout "${TIMEOUT:-90}" | tee "$OUT/$k.txt"
done
grep -h '^RESULT' "$OUT"/*.txt
