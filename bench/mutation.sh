#!/usr/bin/env bash
# Mutation score of every module that decides a verdict or loads a file (issue #28), each mutant against the
# candidate tests that cover its line (coverage.py contexts, see bench/mutate.py). A benchmark, not a CI step:
# one module at a time, one mutant at a time (2-core friendly).
#
# The run is reproducible from the commit: HEAD is exported (git archive) into a temporary folder with the
# sample models, mutated there (never in this checkout), and each module's log, bench/mutation-results/KEY.jsonl,
# records the commit, the command and every mutant's fate. bench/mutation_table.py turns the logs into the
# table of bench/README.md.
#
# Usage: bash bench/mutation.sh [module-key ...]      (no key: every module, smallest first)
#        TIMEOUT=90 (seconds per mutant), PY=.venv/bin/python, OUT=bench/mutation-results,
#        WORKERS=2 (mutants at a time, each in its own copy of the export), NO_FORK=1 (a fresh python per mutant
#        instead of a fork of a parent that preloaded the libraries), LIMIT=N (the first N mutants only)
#        Re-check of survivors' lines after tests were added (one key):
#        ONLY_LINES=37,51 OUT=bench/mutation-results/recheck bash bench/mutation.sh KEY
#        or every mutant the key's full run did not kill (survived, uncovered, timeout): RECHECK=1 OUT=bench/mutation-results/recheck ...
set -u
cd "$(dirname "$0")/.."
REPO=$PWD
PY=${PY:-$REPO/.venv/bin/python}
OUT=${OUT:-$REPO/bench/mutation-results}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)  # absolute: the run happens in the exported folder
declare -A MODULE TESTS
MODULE[gate_checks]=audit/gate/checks.py;       TESTS[gate_checks]="tests/gate tests/test_recourse.py tests/test_fairness.py tests/test_compare.py"
MODULE[gate_audit]=audit/gate/audit.py;         TESTS[gate_audit]="tests/gate tests/test_protected_gate.py tests/test_fairness.py tests/test_fair_lending.py"
MODULE[gate_compare]=audit/gate/compare.py;     TESTS[gate_compare]="tests/gate tests/test_compare.py"
MODULE[gate_reasons]=audit/gate/reasons.py;     TESTS[gate_reasons]="tests/gate tests/test_recourse.py tests/test_directions.py"
MODULE[gate_evidence]=audit/gate/evidence.py;   TESTS[gate_evidence]="tests/gate tests/test_validation_evidence.py"
MODULE[decisions]=audit/measures/decisions.py;  TESTS[decisions]="tests/test_decisions.py tests/test_decisions_signs.py"
MODULE[fairness]=audit/measures/fairness.py;    TESTS[fairness]="tests/test_fairness.py tests/test_fair_lending.py tests/test_grouping.py"
MODULE[protected]=audit/measures/protected.py;  TESTS[protected]="tests/test_protected_gate.py tests/test_agreement_protected.py tests/test_verdict_integrity.py tests/test_fair_lending.py tests/gate/test_gate_verdicts.py tests/gate/test_not_measured.py tests/test_lda.py"
MODULE[compare]=audit/commands/compare.py;      TESTS[compare]="tests/test_compare.py tests/test_compare_inputs.py tests/test_compare_measures.py"
MODULE[budget]=audit/commands/budget.py;        TESTS[budget]="tests/test_budget.py"
MODULE[recourse]=audit/recourse/__init__.py;    TESTS[recourse]="tests/test_recourse.py tests/test_recourse_rules.py"
MODULE[recourse_search]=audit/recourse/search.py;   TESTS[recourse_search]="tests/test_recourse.py tests/test_recourse_search_parts.py"
MODULE[recourse_support]=audit/recourse/support.py; TESTS[recourse_support]="tests/test_recourse.py tests/test_recourse_support.py"
MODULE[metrics]=audit/faithfulness/metrics.py;  TESTS[metrics]="--noconftest tests/faithfulness/test_metrics_values.py tests/faithfulness/test_metrics_rules.py"
MODULE[scoring]=audit/faithfulness/scoring.py;  TESTS[scoring]="tests/faithfulness/test_scoring_values.py tests/faithfulness/test_known_truth.py tests/faithfulness/test_scoring_strength.py tests/faithfulness/test_scoring_rows.py"
MODULE[evaluate]=audit/faithfulness/evaluate.py;   TESTS[evaluate]="tests/faithfulness"
MODULE[reference]=audit/faithfulness/reference.py; TESTS[reference]="tests/faithfulness"
MODULE[allowlist]=audit/loading/_allowlist.py;  TESTS[allowlist]="tests/loading/test_loader_refusals.py tests/loading/test_safe_pickle.py tests/loading/test_allowlist_admission.py tests/loading/test_allowlist_derivation.py tests/loading/test_every_estimator.py"
MODULE[model]=audit/loading/_model.py;          TESTS[model]="tests/loading/test_loader_refusals.py tests/loading/test_safe_pickle.py tests/loading/test_model_validation.py tests/loading/test_model_load_paths.py tests/loading/test_allowlist_admission.py tests/loading/test_user_code.py"
MODULE[unpickler]=audit/loading/_unpickler.py;  TESTS[unpickler]="tests/loading/test_loader_refusals.py tests/loading/test_safe_pickle.py tests/security/test_mutations.py tests/loading/test_allowlist_admission.py tests/loading/test_model_load_paths.py tests/loading/test_every_estimator.py tests/loading/test_user_code.py"
MODULE[validate]=audit/loading/_validate.py;    TESTS[validate]="tests/loading/test_model_validation.py tests/loading/test_loader_refusals.py tests/loading/test_validate_state.py"
MODULE[native]=audit/loading/_native.py;        TESTS[native]="tests/loading/test_native_loading.py tests/loading/test_native_fuzz.py tests/adapters/test_native_trees.py tests/loading/test_native_checks.py"
keys=("$@")
if [ ${#keys[@]} -eq 0 ]; then  # every module, smallest file first
  mapfile -t keys < <(for k in "${!MODULE[@]}"; do echo "$(wc -l < "${MODULE[$k]}") $k"; done | sort -n | cut -d' ' -f2)
fi
COMMIT=$(git rev-parse HEAD)
WORK=$(mktemp -d /tmp/mutation-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
git archive HEAD | tar -x -C "$WORK"
[ -d samples/models ] && cp -r samples/models "$WORK/samples/"
cd "$WORK"
export PYTHONPATH=$WORK MUTATION_COMMIT=$COMMIT
for k in "${keys[@]}"; do
  [ -n "${MODULE[$k]:-}" ] || { echo "unknown module key $k (keys: ${!MODULE[*]})" >&2; exit 2; }
  if [ -n "${RECHECK:-}" ]; then  # only the mutants the module's full run ($REPO/bench/mutation-results) did not kill
    ONLY_MUTANTS=$("$PY" -c 'import json, sys; print(",".join(str(r["mutant"]) for r in map(json.loads, open(sys.argv[1])) if r.get("fate") in ("survived", "uncovered", "timeout")))' "$REPO/bench/mutation-results/$k.jsonl")
    [ -n "$ONLY_MUTANTS" ] || { echo "$k: no survivors to re-check"; continue; }
  fi
  "$PY" bench/mutate.py "${MODULE[$k]}" --tests "${TESTS[$k]}" --timeout "${TIMEOUT:-90}" \
    --workers "${WORKERS:-1}" ${NO_FORK:+--no-fork} ${LIMIT:+--limit "$LIMIT"} \
    ${ONLY_LINES:+--only-lines "$ONLY_LINES"} ${ONLY_MUTANTS:+--only-mutants "$ONLY_MUTANTS"} --log "$OUT/$k.jsonl" | tee "$OUT/$k.txt"
done
grep -h '^RESULT' "$OUT"/*.txt
