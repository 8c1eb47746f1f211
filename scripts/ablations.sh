#!/usr/bin/env bash
# Ablations of the training recipe (README, "Ablations"): each idea alone on top of the `paper`
# preset, and the `projector` preset with all of them, every run warm-started from the MNIST f that
# this repository shipped before the recipe existed (commit 56dbb96), same seed, the same number of
# training images (500 steps × 64, or 125 × 256). Then `npm run evaluate` on each and one table.
# Usage: bash scripts/ablations.sh [OUT_DIR]   (default $HOME/ign-ablations; about 10 min a run on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-$HOME/ign-ablations}
START="$OUT/start"
mkdir -p "$OUT"
if [ ! -f "$START/model.onnx" ]; then
  mkdir -p "$START"
  git archive 56dbb96 models/mnist | tar -x -C "$OUT" && cp -r "$OUT/models/mnist/." "$START/" && rm -rf "$OUT/models"
fi
common=(--dataset mnist --width 32 --latent 128 --seed 0 --init-from "$START" --sample-every 0 --checkpoint-every 0 --log-every 50)
run() {
  local name=$1; shift
  if [ ! -f "$OUT/$name/model.onnx" ]; then
    npm run --silent train -- "${common[@]}" "$@" --out "$OUT/runs/$name" --export "$OUT/$name"
  fi
  if [ ! -f "$OUT/$name/evaluation.json" ]; then
    npm run --silent evaluate -- "$OUT/$name" --classifier-dir models/mnist-classifier
  fi
}
run base      --preset paper --steps 500 --batch 64
run ema       --preset paper --steps 500 --batch 64 --ema 0.995
run cosine    --preset paper --steps 500 --batch 64 --lr-schedule cosine --lr-final 0.1
run hermitian --preset paper --steps 500 --batch 64 --hermitian
run mix       --preset paper --steps 500 --batch 64 --source-mix 0.5
run batch256  --preset paper --steps 125 --batch 256
run projector --preset projector --steps 500 --batch 64 --ema 0.995
npm run --silent ablation-table -- \
  "paper (base)=$OUT/base" "+ EMA 0.995=$OUT/ema" "+ cosine LR=$OUT/cosine" "+ Hermitian noise=$OUT/hermitian" \
  "+ mixture source 0.5=$OUT/mix" "batch 256=$OUT/batch256" "projector (all)=$OUT/projector"
