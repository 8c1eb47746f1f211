#!/usr/bin/env bash
# The normalisation sets of scripts/ablations.sh (sourced there after ablations-lib.sh; needs OUT,
# START and SEVENTH_CYCLE): blended BatchNorm, GroupNorm and a first-layer normalisation.
# n5000 NAME SEED: NAME evaluated on 5,000 test images with that evaluation seed (ablations-lib.sh reeval).
n5000() { reeval "$1" 5000 "$2"; }
normalisation_set() {
  if [ "$SET" = blend ]; then
    for a in 0.2 0.3 0.4 0.5; do calibrate "blend$a" "$START" --clean-share 0.625 --bn-blend "$a"; done
    recipe=("${SEVENTH_CYCLE[@]}" --steps 2000 --seed 9)
    export CLEAN_SHARE=0.625
    train_cal trained3 "${recipe[@]}" --bn-blend 0.3
    train_cal trained5 "${recipe[@]}" --bn-blend 0.5
    npm run --silent ablation-table -- "f of bb95297 (plain BatchNorm)=$START" "blend 0.2=$OUT/blend0.2" "blend 0.3=$OUT/blend0.3" \
      "blend 0.4=$OUT/blend0.4" "blend 0.5=$OUT/blend0.5" "eighth cycle trained with blend 0.3=$OUT/trained3-cal" \
      "eighth cycle trained with blend 0.5=$OUT/trained5-cal"
    # The same two f on 5,000 test images, three evaluation seeds.
    rows=()
    for seed in 0 1 2; do
      for run in start blend0.3; do
        n5000 "$run" "$seed"
        label=${run/start/plain (bb95297)}
        rows+=("${label/blend0.3/blend 0.3}, 5,000 images, seed $seed=$OUT/$run-n5000-s$seed")
      done
    done
    npm run --silent ablation-table -- "${rows[@]}"
  elif [ "$SET" = groupnorm ]; then
    recipe=("${SEVENTH_CYCLE[@]}" --seed 9 --norm group --groups 32)
    run gn300 "${recipe[@]}" --steps 300
    run gn6000 "${recipe[@]}" --steps 6000
    run gn6000t20 "${recipe[@]}" --steps 6000 --augment 0.2
    npm run --silent ablation-table -- "f of bb95297 (BatchNorm, plain calibration)=$START" "GroupNorm, 300 steps=$OUT/gn300" \
      "GroupNorm, 6,000 steps=$OUT/gn6000" "GroupNorm, 6,000 steps, thicker strokes 0.2=$OUT/gn6000t20"
  elif [ "$SET" = normfirst ]; then
    calibrate bundled "$START" --clean-share 0.625 --bn-blend 0.3
    recipe=("${SEVENTH_CYCLE[@]}" --seed 9 --norm-first)
    export CLEAN_SHARE=0.625 BN_BLEND=0.3
    train_cal nf2000 "${recipe[@]}" --steps 2000
    train_cal nf4000 "${recipe[@]}" --steps 4000
    npm run --silent ablation-table -- "f of bb95297, blend 0.3=$OUT/bundled" \
      "+ first-layer BatchNorm, 2,000 steps=$OUT/nf2000-cal" "+ first-layer BatchNorm, 4,000 steps=$OUT/nf4000-cal"
    # 64 Fourier-mixture groups (seed 9 for 4,000 steps, seed 10 for 2,000), calibrated as above and
    # from f's own samples (SAMPLES_MIXTURE: generation file and samples on z batches with the
    # training's mixture share; blend 0.5); the f bundled before them for comparison.
    calibrate bundled-gen "$OUT/bundled" --generator --mixture 0.25
    train_cal nfk64x4k "${recipe[@]}" --noise-components 64 --steps 4000
    train_cal nfk64s10 "${recipe[@]}" --noise-components 64 --seed 10 --steps 2000
    for run in start nfk64x4k nfk64s10; do SAMPLES_MIXTURE=0.25 BN_BLEND=0.5 with_calibration "$run"; done
    npm run --silent ablation-table -- "f of bb95297, blend 0.3, generation file as in training (bundled before)=$OUT/bundled-gen" \
      "f of bb95297, calibrated from its samples=$OUT/start-samples" \
      "first-layer BatchNorm, 64 groups, 4,000 steps=$OUT/nfk64x4k-cal" "same, calibrated from its samples=$OUT/nfk64x4k-samples" \
      "first-layer BatchNorm, 64 groups, seed 10, 2,000 steps=$OUT/nfk64s10-cal" "same, calibrated from its samples=$OUT/nfk64s10-samples"
    rows=()
    for seed in 0 1; do
      for run in bundled-gen nfk64x4k-samples nfk64s10-samples; do
        n5000 "$run" "$seed"
        label=${run/bundled-gen/bundled before}
        label=${label/nfk64x4k-samples/64 groups, 4,000 steps, from its samples (bundled)}
        rows+=("${label/nfk64s10-samples/64 groups, seed 10, from its samples}, 5,000 images, seed $seed=$OUT/$run-n5000-s$seed")
      done
    done
    npm run --silent ablation-table -- "${rows[@]}"
  fi
}
