#!/usr/bin/env bash
# The device check: CUDA tests, IG throughput CPU vs GPU, and a full `audit run --device cuda`.
# Run on a GPU machine from the repo root with wheels for missing packages in .whl/ (see bench/README.md).
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
python3 -m pytest tests/torch -p no:cacheprovider -q -rs -k "agree or 100k or completeness or deep_lift_is_additive or attention_rollout or deterministic" 2>&1 | tee "$OUT/cuda_tests.log" | tail -15
python3 bench/ig_throughput.py --rows 100000 --cpu-rows 10000 2>&1 | tee "$OUT/bench_ig.txt"
python3 -m audit run samples/models/loan_transformer.pt samples/german_credit.csv --model-class samples.torch_models:TabTransformer \
  --target risk --device cuda --out "$OUT/gpu-report" --rows 200 2>&1 | tail -25
python3 -c "import json; r=json.load(open('$OUT/gpu-report/results.json')); print('device', r['model'].get('device'), [(e['method'], round(e['faithfulness_score'],3), e['algorithm'].get('device')) for e in r['explanations']])"
