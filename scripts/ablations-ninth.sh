#!/usr/bin/env bash
# The ninth-cycle set of scripts/ablations.sh (sourced there after ablations-lib.sh and
# ablations-norm.sh; needs OUT, START and SEVENTH_CYCLE): a ninth cycle of the eighth's recipe
# from the f bundled at commit ac18444 (seed 11), alone and with one change each, every run
# calibrated as that f was (generation file and f's statistics from its own samples, blend 0.5, z
# batches with the training's mixture share); then a tenth cycle from the ninth.
ninth_set() {
  local recipe=("${SEVENTH_CYCLE[@]}" --noise-components 64 --norm-first --seed 11)
  export SAMPLES_MIXTURE=0.25 BN_BLEND=0.5
  train_cal ninth2k "${recipe[@]}" --steps 2000
  train_cal ninth4k "${recipe[@]}" --steps 4000
  train_cal stem16 "${recipe[@]}" --steps 4000 --stem 16
  train_cal tight0 "${recipe[@]}" --steps 2000 --source-tight 0
  SAMPLES_MIXTURE=0.4 train_cal mix40 "${recipe[@]}" --steps 2000 --source-mix 0.4
  # A tenth cycle (seed 12, 4,000 steps) from the 4,000-step ninth.
  INIT_FROM="$OUT/ninth4k" train_cal tenth "${recipe[@]}" --steps 4000 --seed 12
  npm run --silent ablation-table -- "bundled before (eighth cycle)=$START" "ninth cycle, 2,000 steps=$OUT/ninth2k-samples" \
    "+ no L_tight on mixture rows=$OUT/tight0-samples" "+ mixture share 0.4=$OUT/mix40-samples" \
    "ninth cycle, 4,000 steps=$OUT/ninth4k-samples" "+ stem of 16 channels=$OUT/stem16-samples" \
    "tenth cycle from it, 4,000 steps=$OUT/tenth-samples"
  # The 4,000-step runs and the f bundled before on 5,000 test images, two evaluation seeds.
  local rows=() seed run label
  for seed in 0 1; do
    for run in start ninth4k-samples stem16-samples tenth-samples; do
      n5000 "$run" "$seed"
      label=${run/start/bundled before}
      label=${label/ninth4k-samples/ninth cycle}
      label=${label/stem16-samples/ninth cycle with a stem}
      rows+=("${label/tenth-samples/tenth cycle}, 5,000 images, seed $seed=$OUT/$run-n5000-s$seed")
    done
  done
  npm run --silent ablation-table -- "${rows[@]}"
  # The tenth and the f bundled before on two more draws of 1,000 test images.
  rows=()
  for seed in 1 2; do
    for run in start tenth-samples; do
      reeval "$run" 1000 "$seed"
      label=${run/start/bundled before}
      rows+=("${label/tenth-samples/tenth cycle}, 1,000 images, seed $seed=$OUT/$run-n1000-s$seed")
    done
  done
  npm run --silent ablation-table -- "${rows[@]}"
}
