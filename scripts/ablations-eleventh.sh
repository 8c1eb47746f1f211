#!/usr/bin/env bash
# The eleventh-cycle set of scripts/ablations.sh (sourced there after ablations-lib.sh; needs OUT,
# START and SEVENTH_CYCLE): an eleventh cycle of the bundled recipe from the f bundled at commit
# 6ddf916 (the tenth cycle; seed 13) at batch 64 (4,000 steps), 128 (2,000 and 4,000 steps) and
# 256 (1,000 steps: as many images as 4,000 steps of 64; and 2,000), every run calibrated as that f was; a
# twelfth cycle at batch 64 (seed 14) from the batch-64 eleventh, at lr 1e-4 and 5e-5; then the
# runs on 5,000 test images (seeds 0 and 1) and the batch-256 one on two more draws of 1,000.
eleventh_set() {
  local recipe=("${SEVENTH_CYCLE[@]}" --noise-components 64 --norm-first --seed 13)
  export SAMPLES_MIXTURE=0.25 BN_BLEND=0.5
  train_cal eleventh "${recipe[@]}" --steps 4000
  train_cal b128 "${recipe[@]}" --steps 2000 --batch 128
  train_cal b128x4k "${recipe[@]}" --steps 4000 --batch 128
  train_cal b256 "${recipe[@]}" --steps 1000 --batch 256
  train_cal b256x2k "${recipe[@]}" --steps 2000 --batch 256
  INIT_FROM="$OUT/eleventh" train_cal twelfth "${recipe[@]}" --steps 4000 --seed 14
  INIT_FROM="$OUT/eleventh" train_cal twelfthlr5 "${recipe[@]}" --steps 4000 --seed 14 --lr 5e-5
  npm run --silent ablation-table -- "bundled before (tenth cycle)=$START" "eleventh cycle, batch 64, 4,000 steps=$OUT/eleventh-samples" \
    "eleventh cycle, batch 128, 2,000 steps=$OUT/b128-samples" "eleventh cycle, batch 128, 4,000 steps=$OUT/b128x4k-samples" \
    "eleventh cycle, batch 256, 1,000 steps=$OUT/b256-samples" "eleventh cycle, batch 256, 2,000 steps=$OUT/b256x2k-samples" \
    "twelfth cycle, batch 64=$OUT/twelfth-samples" \
    "twelfth cycle, batch 64, lr 5e-5=$OUT/twelfthlr5-samples"
  local rows=() seed run
  for seed in 0 1; do
    for run in start eleventh-samples b128-samples b256-samples b256x2k-samples twelfth-samples; do
      n5000 "$run" "$seed"
      rows+=("$(label_of "$run"), 5,000 images, seed $seed=$OUT/$run-n5000-s$seed")
    done
  done
  npm run --silent ablation-table -- "${rows[@]}"
  rows=()
  for seed in 1 2; do
    for run in start b256-samples; do
      reeval "$run" 1000 "$seed"
      rows+=("$(label_of "$run"), 1,000 images, seed $seed=$OUT/$run-n1000-s$seed")
    done
  done
  npm run --silent ablation-table -- "${rows[@]}"
}
label_of() {
  case $1 in
    start) echo "bundled before" ;;
    eleventh-samples) echo "eleventh cycle, batch 64" ;;
    b128-samples) echo "eleventh cycle, batch 128" ;;
    b256-samples) echo "eleventh cycle, batch 256" ;;
    b256x2k-samples) echo "eleventh cycle, batch 256, 2,000 steps" ;;
    twelfth-samples) echo "twelfth cycle, batch 64" ;;
    b256-samples-cal1) echo "eleventh cycle, batch 256, calibration seed 1" ;;
    b256lr5-samples) echo "eleventh cycle, batch 256, lr 5e-5" ;;
  esac
}
# The batch256 set: the eleventh cycle's batch-256 run again (seed 13, 1,000 steps) and at half the
# learning rate, trained two at a time (one thread each) and calibrated as bundled; the first
# also calibrated with a second calibration seed; all on 5,000 test images (seeds 0 and 1) beside
# the start f (its weights are 6ddf916's), which is evaluated afresh on 1,000 images too.
batch256_set() {
  local recipe=("${SEVENTH_CYCLE[@]}" --noise-components 64 --norm-first --seed 13 --steps 1000 --batch 256)
  export SAMPLES_MIXTURE=0.25 BN_BLEND=0.5
  local pids=()
  train_cal b256 "${recipe[@]}" &
  pids+=($!)
  train_cal b256lr5 "${recipe[@]}" --lr 5e-5 &
  pids+=($!)
  wait_all "${pids[@]}"
  local cal1="$OUT/b256-samples-cal1"
  if [ ! -f "$cal1/evaluation.json" ]; then
    rm -rf "$cal1" && cp -r "$OUT/b256-samples" "$cal1" && rm -f "$cal1/evaluation.json"
    npm run --silent calibrate-bn -- "$cal1" --source samples --mixture "$SAMPLES_MIXTURE" --bn-blend "$BN_BLEND" --seed 1
    npm run --silent evaluate -- "$cal1" --classifier-dir models/mnist-classifier
  fi
  reeval start 1000 0
  npm run --silent ablation-table -- "bundled (tenth cycle)=$OUT/start-n1000-s0" "batch 256, 1,000 steps=$OUT/b256-samples" \
    "batch 256, 1,000 steps, second calibration seed=$cal1" "batch 256, 1,000 steps, lr 5e-5=$OUT/b256lr5-samples"
  local rows=() seed run
  for seed in 0 1; do
    pids=()
    for run in start b256-samples b256-samples-cal1 b256lr5-samples; do
      n5000 "$run" "$seed" &
      pids+=($!)
      rows+=("$(label_of "$run"), 5,000 images, seed $seed=$OUT/$run-n5000-s$seed")
    done
    wait_all "${pids[@]}"
  done
  npm run --silent ablation-table -- "${rows[@]}"
}
# wait_all PID…: wait for each background job and fail as the first failed one did (a bare `wait`
# returns 0 whatever its jobs returned, which set -e cannot see).
wait_all() {
  local pid
  for pid in "$@"; do wait "$pid"; done
}
