#!/usr/bin/env bash
# The normalisation sets of scripts/ablations.sh (sourced there after ablations-lib.sh; needs OUT,
# START and SEVENTH_CYCLE): blended BatchNorm, GroupNorm and a first-layer normalisation.
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
        dst="$OUT/$run-n5000-s$seed"
        if [ ! -f "$dst/evaluation.json" ]; then
          rm -rf "$dst" && cp -r "$OUT/$run" "$dst" && rm "$dst/evaluation.json"
          npm run --silent evaluate -- "$dst" --classifier-dir models/mnist-classifier --n 5000 --seed "$seed"
        fi
        label=${run/start/plain (bb95297)}
        rows+=("${label/blend0.3/blend 0.3}, 5,000 images, seed $seed=$dst")
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
  fi
}
