#!/usr/bin/env bash
# The device check: CUDA tests, IG throughput CPU vs GPU, CPU/GPU agreement per explainer, and a full
# `audit run --device cuda`.
# SKIP_BENCH=1 leaves out the throughput and agreement figures. Run on a GPU machine from the repo root with wheels for missing packages in .whl/ (see bench/README.md).
set -u
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import torch, captum; print('torch', torch.__version__, 'captum', captum.__version__, 'cuda', torch.cuda.is_available())"
python3 -m pytest tests/torch -p no:cacheprovider -q -rs -k "agree or 100k or completeness or deep_lift_is_additive or attention_rollout or deterministic or randomised" 2>&1 | tee "$OUT/cuda_tests.log" | tail -15
[ -n "${SKIP_BENCH:-}" ] || { echo "[step at ${SECONDS}s]"; python3 bench/ig_throughput.py --rows 100000 --cpu-rows 10000 2>&1 | tee "$OUT/bench_ig.txt"
echo "[step at ${SECONDS}s]"; python3 bench/gpu_agreement.py 2>&1 | tee "$OUT/agreement.txt"; }
[ -f samples/models/loan_transformer.pt ] || python3 samples/make_torch_samples.py
AUDIT=(python3 -m audit run samples/models/loan_transformer.pt samples/german_credit.csv
       --model-class samples.torch_models:TabTransformer --target risk --rows 200)
echo "[step at ${SECONDS}s]"; "${AUDIT[@]}" --device cuda --out "$OUT/gpu-report" 2>&1 | tail -25
echo "[step at ${SECONDS}s]"; "${AUDIT[@]}" --device cpu --out /tmp/cpu-report --quiet >/dev/null 2>&1; echo "cpu audit exit $?"; cp /tmp/cpu-report/results.json "$OUT/cpu_results.json"
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
g, c = json.load(open(f"{out}/gpu-report/results.json")), json.load(open(f"{out}/cpu_results.json"))
print("device", g["model"].get("device"), [(e["method"], round(e["faithfulness_score"], 3), e["algorithm"].get("device"))
                                        for e in g["explanations"]])
print("randomisation checks on cuda:", [(k["name"], k["status"]) for k in g["gate"]["checks"] if k["name"].startswith("randomisation")])
cc = {k["name"]: k for k in c["gate"]["checks"]}
diff = [(k["name"], k["verdict"], cc[k["name"]]["verdict"]) for k in g["gate"]["checks"]
        if k["name"] in cc and k["verdict"] != cc[k["name"]]["verdict"]]
vals = [abs(k["value"] - cc[k["name"]]["value"]) for k in g["gate"]["checks"]
        if k["name"] in cc and isinstance(k.get("value"), float) and isinstance(cc[k["name"]].get("value"), float)]
print(f"gate passed: cuda {g['gate']['passed']}, cpu {c['gate']['passed']}; checks whose verdict differs: {diff}; "
      f"largest |value difference| over {len(vals)} checks: {max(vals, default=0.0):.2e}")
PY
echo "[done at ${SECONDS}s]"
