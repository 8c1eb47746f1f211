#!/usr/bin/env bash
# Ablations of the training recipe (README, "Ablations"), two sets, each run warm-started from an
# MNIST f this repository shipped, same seed, then `npm run evaluate` on each and one table.
#   recipe:  each idea alone on top of the `paper` preset, and `projector` with all of them, from the
#            f shipped before the recipe existed (commit 56dbb96); 500 steps × 64 (or 125 × 256).
#   mixture: the mixture-source variants on top of `projector`, from the f the recipe produced
#            (commit 0bfea35); 500 steps × 64.
#   cycle:   one more `projector` cycle from the f bundled at commit 534cfed, alone and with one
#            change each; 3,000 steps × 64, seed 5; then every run again after `npm run calibrate-bn`
#            (serving statistics and a generation file), as the bundled f is shipped.
#   calibration: no training; the BatchNorm statistics of the f bundled at commit 27818b0
#            recalibrated (`npm run calibrate-bn`) on each calibration source, a second seed, and
#            the serving calibration with a generation file (`--generator`).
#   cycle2:  one more cycle of the shipped recipe (mixture 0.25, λ_rec 40; 3,000 steps × 64, seed 6)
#            from the f bundled at commit 044836a: alone, widened (`--width`, function-preserving:
#            docs/ign.md, "Research flags") to width 40 or 64, and with bridge rows
#            (`--source-bridge 0.25`), and with the mixture's blur up to σ = 3 (`--source-blur-max 3`),
#            and with covariance noise (`--noise covariance`: alone, with mixture 0.5, with mixture 0.5
#            and λ_rec 80, with λ_tight 1.25, with white pixel noise of std 0.3 or 0.6 added
#            (`--covariance-white`), and a second covariance cycle from the first, seed 7), and with
#            Fourier noise without (0) or with half (0.5) of its mean digit (`--fourier-mean`), alone
#            and with mixture 0.5;
#            each calibrated as shipped.
#   cycle3:  a third Fourier-mixture cycle (2,000 steps × 64, one intra-op thread, seed 8) from the
#            f bundled at commit be74ee3: alone (seeds 8 and 9) and with one change each (λ_rec 60 or
#            80, mixture 0.35, L_tight on mixture rows × 0.5, lr 5e-5 or 2e-4, mixture blur up to
#            σ = 3, λ_idem 30, λ_tight 1.5, bridge rows 0.1, 40 or 64 mixture groups, those with a
#            second seed, λ_rec 60 or 80, or λ_tight 1.5); each
#            calibrated as shipped. Only the calibrated runs are evaluated.
#   augment: the bundled seventh cycle (cycle3's recipe with 40 groups and λ_rec 60, seed 8, from the
#            f bundled at commit be74ee3) with augmented real rows (`--augment p`): every family at
#            p = 0.25 and 0.5; thicker/thinner strokes at p = 0.25 … 0.03 (0.08, 0.05, 0.03 with
#            seed 9 too); thinner only at 0.1; thicker only at p = 0.25 … 0.05; each calibrated as
#            shipped; then the thicker 0.1 run and the unaugmented one recalibrated with more clean
#            batches (`calibrate-bn --clean-share`), the bundled f being the thicker 0.1 run at 0.625.
#   cycle4:  the bundled seventh cycle itself (the augment set's recipe with `--augment 0.1
#            --augment-families thicken`, calibrated with clean share 0.625 as bundled) with one
#            change each: the mixture's impulse-noise family weighted 3× or 6× (`--source-weights`),
#            λ_rec 80; then an eighth cycle of that recipe from the bundled f (seed 9): 2,000 steps,
#            1,000 steps, 2,000 steps at lr 5e-5 (alone, and with thicker and thinner strokes at p = 0.1
#            and 0.15); each calibrated as bundled.
#   blend:   blended BatchNorm (`--bn-blend α`, docs/ign.md, "Blended BatchNorm") on the f bundled
#            at commit bb95297: its serving calibration (clean share 0.625) redone with α = 0.2 … 0.5,
#            the generation file unchanged; an eighth cycle (the cycle4 recipe, 2,000 steps, seed 9)
#            trained with α = 0.3 or 0.5, calibrated as bundled; then the f before and with α = 0.3
#            evaluated on 5,000 test images with seeds 0, 1 and 2.
#   groupnorm: the f bundled at commit bb95297 fine-tuned with GroupNorm (32 groups: per-image
#            statistics in training and serving alike; γ, β taken from its BatchNorm layers) on the
#            cycle4 recipe (seed 9): 300 and 6,000 steps, and 6,000 with thicker strokes at p = 0.2.
#   normfirst: the f bundled at commit bb95297 given a BatchNorm on its first convolution
#            (`--norm-first`, fresh γ = 1, β = 0), the cycle4 recipe (seed 9) for 2,000 and 4,000
#            steps, each calibrated as bundled (clean share 0.625, blend 0.3; noise-only generation
#            file), against that f calibrated the same way; then with 64 mixture groups (seed 9 for
#            4,000 steps, seed 10 for 2,000), each also calibrated from its own samples
#            (`calibrate-bn --source samples`, blend 0.5, generation file and samples on z batches
#            with a 0.25 mixture share), as is the f of bb95297; the f bundled before and the two
#            so calibrated (the 4,000-step one is bundled) evaluated on 5,000 images, seeds 0 and 1.
#   ninth:   a ninth cycle of the bundled recipe from the f bundled at commit ac18444 (seed 11,
#            calibrated as bundled): 2,000 steps alone, without L_tight on mixture rows, with mixture
#            share 0.4; 4,000 steps alone and with a 16-channel stem (`--stem 16`); a tenth cycle
#            (seed 12, 4,000 steps) from the 4,000-step ninth; the 4,000-step runs and the f bundled
#            before on 5,000 images, seeds 0 and 1.
#   eleventh: an eleventh cycle from the f bundled at commit 6ddf916 (seed 13, calibrated as
#            bundled) at batch 64 (4,000 steps), 128 (2,000 and 4,000) and 256 (1,000 and 2,000); a twelfth
#            at batch 64 (seed 14, lr 1e-4 and 5e-5) from the batch-64 eleventh; 5,000-image
#            evaluations (seeds 0 and 1) and, for batch 256, 1,000 images with seeds 1 and 2.
#   batch256: the eleventh cycle's batch-256 run (1,000 steps, seed 13) again, with a second
#            calibration seed, and at lr 5e-5, from the f bundled at 44f1517 (the weights of 6ddf916,
#            with the card that declares strokes); 5,000-image evaluations (seeds 0 and 1) beside it.
# Usage: bash scripts/ablations.sh [recipe|mixture|cycle|calibration|cycle2|cycle3|augment|cycle4|blend|groupnorm|normfirst|ninth|eleventh|batch256] [OUT_DIR]   (default: recipe, $HOME/ign-ablations)
# About 3 min a run on 2 cores (training, then the evaluation); cycle and cycle2 runs about 12 min
# (width 64: 25), cycle3 and augment runs about 8, calibration 2.
set -euo pipefail
cd "$(dirname "$0")/.."
SET=${1:-recipe}
OUT=${2:-$HOME/ign-ablations}/$SET
case $SET in
  recipe) FROM=56dbb96 ;;
  mixture) FROM=0bfea35 ;;
  cycle) FROM=534cfed ;;
  calibration) FROM=27818b0 ;;
  cycle2) FROM=044836a ;;
  cycle3 | augment | cycle4) FROM=be74ee3 ;;
  blend | groupnorm | normfirst) FROM=bb95297 ;;
  ninth) FROM=ac18444 ;;
  eleventh) FROM=6ddf916 ;;
  batch256) FROM=44f1517 ;;
  *) echo "unknown set '$SET' (recipe, mixture, cycle, calibration, cycle2, cycle3, augment, cycle4, blend, groupnorm, normfirst, ninth, eleventh or batch256)" >&2; exit 2 ;;
esac
START="$OUT/start"
mkdir -p "$OUT"
if [ ! -f "$START/model.onnx" ]; then
  mkdir -p "$START"
  git archive "$FROM" models/mnist | tar -x -C "$OUT" && cp -r "$OUT/models/mnist/." "$START/" && rm -rf "$OUT/models"
fi
SEED=0
[ "$SET" = cycle ] && SEED=5
[ "$SET" = cycle2 ] && SEED=6
[ "$SET" = cycle3 ] && SEED=8
[ "$SET" = augment ] && SEED=8
[ "$SET" = cycle4 ] && SEED=8
common=(--dataset mnist --seed "$SEED" --sample-every 0 --checkpoint-every 0 --log-every 50)
# shellcheck source=scripts/ablations-lib.sh
source scripts/ablations-lib.sh
# shellcheck source=scripts/ablations-norm.sh
source scripts/ablations-norm.sh
# shellcheck source=scripts/ablations-ninth.sh
source scripts/ablations-ninth.sh
# shellcheck source=scripts/ablations-eleventh.sh
source scripts/ablations-eleventh.sh
# The bundled seventh cycle's recipe (cycle4 varies it; blend trains an eighth cycle with it).
SEVENTH_CYCLE=(--preset projector --batch 64 --width 32 --latent 128 --source-mix 0.25 --w-rec 60 --noise fourier-mixture
  --noise-components 40 --threads 1 --augment 0.1 --augment-families thicken)
if [ "$SET" = recipe ]; then
  run base      --preset paper --steps 500 --batch 64
  run ema       --preset paper --steps 500 --batch 64 --ema 0.995
  run cosine    --preset paper --steps 500 --batch 64 --lr-schedule cosine --lr-final 0.1
  run hermitian --preset paper --steps 500 --batch 64 --hermitian
  run mix       --preset paper --steps 500 --batch 64 --source-mix 0.5
  run batch256  --preset paper --steps 125 --batch 256
  run projector --preset projector --steps 500 --batch 64 --ema 0.995 --no-source-clip
  npm run --silent ablation-table -- \
    "paper (base)=$OUT/base" "+ EMA 0.995=$OUT/ema" "+ cosine LR=$OUT/cosine" "+ Hermitian noise=$OUT/hermitian" \
    "+ mixture source 0.5=$OUT/mix" "batch 256=$OUT/batch256" "projector (all)=$OUT/projector"
elif [ "$SET" = calibration ]; then
  calibrate serving     "$START" --source serving
  calibrate serving1    "$START" --source serving --seed 1
  calibrate clean       "$START" --source clean
  calibrate noise       "$START" --source noise
  calibrate serving-gen "$OUT/serving" --generator
  npm run --silent ablation-table -- \
    "as trained (running statistics)=$START" "serving: clean + corrupted=$OUT/serving" \
    "serving, seed 1=$OUT/serving1" "clean images only=$OUT/clean" "noise z only=$OUT/noise" \
    "serving + generation file (shipped)=$OUT/serving-gen"
elif [ "$SET" = cycle ]; then
  run base      --preset projector --steps 3000 --batch 64
  run hermitian --preset projector --steps 3000 --batch 64 --hermitian
  run rec40     --preset projector --steps 3000 --batch 64 --w-rec 40
  run tight125  --preset projector --steps 3000 --batch 64 --w-tight 1.25
  run mix25     --preset projector --steps 3000 --batch 64 --source-mix 0.25
  run hermrec40 --preset projector --steps 3000 --batch 64 --hermitian --w-rec 40
  run mix35     --preset projector --steps 3000 --batch 64 --source-mix 0.35
  run mix25rec40 --preset projector --steps 3000 --batch 64 --source-mix 0.25 --w-rec 40
  npm run --silent ablation-table -- \
    "bundled f (start)=$START" "projector cycle (base)=$OUT/base" "+ Hermitian noise=$OUT/hermitian" "+ λ_rec 40=$OUT/rec40" \
    "+ λ_tight 1.25=$OUT/tight125" "+ mixture 0.25=$OUT/mix25" \
    "+ Hermitian, λ_rec 40=$OUT/hermrec40" "+ mixture 0.35=$OUT/mix35" "+ mixture 0.25, λ_rec 40=$OUT/mix25rec40"
  for name in start base hermitian rec40 tight125 mix25 hermrec40 mix35 mix25rec40; do with_calibration "$name"; done
  echo
  npm run --silent ablation-table -- \
    "bundled f (start), calibrated=$OUT/start-cal" "projector cycle (base), calibrated=$OUT/base-cal" \
    "+ Hermitian noise, calibrated=$OUT/hermitian-cal" "+ λ_rec 40, calibrated=$OUT/rec40-cal" \
    "+ λ_tight 1.25, calibrated=$OUT/tight125-cal" "+ mixture 0.25, calibrated=$OUT/mix25-cal" \
    "+ Hermitian, λ_rec 40, calibrated=$OUT/hermrec40-cal" "+ mixture 0.35, calibrated=$OUT/mix35-cal" \
    "+ mixture 0.25, λ_rec 40, calibrated=$OUT/mix25rec40-cal"
elif [ "$SET" = cycle2 ]; then
  recipe=(--preset projector --steps 3000 --batch 64 --source-mix 0.25 --w-rec 40)
  run base "${recipe[@]}"
  WIDTH=40 run w40 "${recipe[@]}"
  WIDTH=64 run w64 "${recipe[@]}"
  run bridge "${recipe[@]}" --source-bridge 0.25
  run blur3 "${recipe[@]}" --source-blur-max 3
  run cov "${recipe[@]}" --noise covariance
  run covmix50 "${recipe[@]}" --noise covariance --source-mix 0.5
  run covmix50rec80 "${recipe[@]}" --noise covariance --source-mix 0.5 --w-rec 80
  run covtight "${recipe[@]}" --noise covariance --w-tight 1.25
  run covw03 "${recipe[@]}" --noise covariance --covariance-white 0.3
  run covw06 "${recipe[@]}" --noise covariance --covariance-white 0.6
  run fmean05 "${recipe[@]}" --fourier-mean 0.5
  run fmean0 "${recipe[@]}" --fourier-mean 0
  run fmean05mix50 "${recipe[@]}" --fourier-mean 0.5 --source-mix 0.5
  run fmean0mix50 "${recipe[@]}" --fourier-mean 0 --source-mix 0.5
  run long10k "${recipe[@]}" --steps 10000 --seed 8
  run fmix20 "${recipe[@]}" --noise fourier-mixture
  run fmixrec80 "${recipe[@]}" --noise fourier-mixture --w-rec 80
  # Later flags win: the second covariance cycle starts from the first one's export, and so on.
  run covcov "${recipe[@]}" --noise covariance --init-from "$OUT/cov" --seed 7
  run fmixfmix "${recipe[@]}" --noise fourier-mixture --init-from "$OUT/fmix20" --seed 7
  run fmix2mix35 "${recipe[@]}" --noise fourier-mixture --init-from "$OUT/fmix20" --seed 7 --source-mix 0.35
  run fmix2notight "${recipe[@]}" --noise fourier-mixture --init-from "$OUT/fmix20" --seed 7 --source-tight 0
  run fmix3 "${recipe[@]}" --noise fourier-mixture --init-from "$OUT/fmixfmix" --seed 8
  run fmix3mix50 "${recipe[@]}" --noise fourier-mixture --init-from "$OUT/fmixfmix" --seed 8 --source-mix 0.5
  for name in base w40 w64 bridge blur3 cov covmix50 covmix50rec80 covtight covw03 covw06 covcov fmean05 fmean0 fmean05mix50 fmean0mix50 \
    long10k fmix20 fmixrec80 fmixfmix fmix2mix35 fmix2notight fmix3 fmix3mix50; do with_calibration "$name"; done
  npm run --silent ablation-table -- \
    "f bundled at \`044836a\` (start: width 32, latent 128)=$START" "one more cycle, same size, calibrated=$OUT/base-cal" \
    "widened to width 40, calibrated=$OUT/w40-cal" "widened to width 64, calibrated=$OUT/w64-cal" \
    "+ bridge rows 0.25, calibrated=$OUT/bridge-cal" "+ mixture blur σ up to 3, calibrated=$OUT/blur3-cal" \
    "+ covariance noise, calibrated=$OUT/cov-cal" "+ covariance, mixture 0.5, calibrated=$OUT/covmix50-cal" \
    "+ covariance, mixture 0.5, λ_rec 80, calibrated=$OUT/covmix50rec80-cal" \
    "+ covariance, λ_tight 1.25, calibrated=$OUT/covtight-cal" "+ covariance, white noise 0.3, calibrated=$OUT/covw03-cal" \
    "+ covariance, white noise 0.6, calibrated=$OUT/covw06-cal" "+ covariance, second cycle, calibrated=$OUT/covcov-cal" \
    "+ Fourier mean × 0.5, calibrated=$OUT/fmean05-cal" "+ Fourier mean × 0, calibrated=$OUT/fmean0-cal" \
    "+ Fourier mean × 0.5, mixture 0.5, calibrated=$OUT/fmean05mix50-cal" \
    "+ Fourier mean × 0, mixture 0.5, calibrated=$OUT/fmean0mix50-cal" \
    "one cycle of 10,000 steps (seed 8), calibrated=$OUT/long10k-cal" \
    "+ Fourier-mixture noise (20 groups), calibrated=$OUT/fmix20-cal" \
    "+ Fourier mixture, λ_rec 80, calibrated=$OUT/fmixrec80-cal" \
    "+ Fourier mixture, second cycle (bundled), calibrated=$OUT/fmixfmix-cal" \
    "+ Fourier mixture, second cycle with mixture 0.35, calibrated=$OUT/fmix2mix35-cal" \
    "+ Fourier mixture, second cycle without L_tight on mixture rows, calibrated=$OUT/fmix2notight-cal" \
    "+ Fourier mixture, third cycle, calibrated=$OUT/fmix3-cal" \
    "+ Fourier mixture, third cycle with mixture 0.5, calibrated=$OUT/fmix3mix50-cal"
elif [ "$SET" = cycle3 ]; then
  recipe=(--preset projector --steps 2000 --batch 64 --width 32 --latent 128 --source-mix 0.25 --w-rec 40 --noise fourier-mixture --threads 1)
  train_cal base "${recipe[@]}"
  train_cal base9 "${recipe[@]}" --seed 9
  train_cal rec60 "${recipe[@]}" --w-rec 60
  train_cal mix35 "${recipe[@]}" --source-mix 0.35
  train_cal tight05 "${recipe[@]}" --source-tight 0.5
  train_cal lr5e5 "${recipe[@]}" --lr 5e-5
  train_cal lr2e4 "${recipe[@]}" --lr 2e-4
  train_cal blur3 "${recipe[@]}" --source-blur-max 3
  train_cal idem30 "${recipe[@]}" --w-idem 30
  train_cal wt15 "${recipe[@]}" --w-tight 1.5
  train_cal bridge10 "${recipe[@]}" --source-bridge 0.1
  train_cal k40 "${recipe[@]}" --noise-components 40
  train_cal k40s9 "${recipe[@]}" --noise-components 40 --seed 9
  train_cal k40rec60 "${recipe[@]}" --noise-components 40 --w-rec 60
  train_cal k40rec80 "${recipe[@]}" --noise-components 40 --w-rec 80
  train_cal k40wt15 "${recipe[@]}" --noise-components 40 --w-tight 1.5
  train_cal k40rec60wt15 "${recipe[@]}" --noise-components 40 --w-rec 60 --w-tight 1.5
  train_cal k64 "${recipe[@]}" --noise-components 64
  train_cal k64s9 "${recipe[@]}" --noise-components 64 --seed 9
  train_cal k64rec60 "${recipe[@]}" --noise-components 64 --w-rec 60
  npm run --silent ablation-table -- \
    "f bundled at \`be74ee3\` (start)=$START" "third cycle, seed 8, calibrated=$OUT/base-cal" \
    "third cycle, seed 9, calibrated=$OUT/base9-cal" "+ λ_rec 60, calibrated=$OUT/rec60-cal" \
    "+ mixture 0.35, calibrated=$OUT/mix35-cal" "+ L_tight × 0.5 on mixture rows, calibrated=$OUT/tight05-cal" \
    "+ lr 5e-5, calibrated=$OUT/lr5e5-cal" "+ lr 2e-4, calibrated=$OUT/lr2e4-cal" \
    "+ mixture blur σ up to 3, calibrated=$OUT/blur3-cal" "+ λ_idem 30, calibrated=$OUT/idem30-cal" \
    "+ λ_tight 1.5, calibrated=$OUT/wt15-cal" "+ bridge rows 0.1, calibrated=$OUT/bridge10-cal" \
    "+ 40 mixture groups, calibrated=$OUT/k40-cal" "+ 40 groups, seed 9, calibrated=$OUT/k40s9-cal" \
    "+ 40 groups, λ_rec 60 (bundled), calibrated=$OUT/k40rec60-cal" "+ 40 groups, λ_rec 80, calibrated=$OUT/k40rec80-cal" \
    "+ 40 groups, λ_tight 1.5, calibrated=$OUT/k40wt15-cal" \
    "+ 40 groups, λ_rec 60, λ_tight 1.5, calibrated=$OUT/k40rec60wt15-cal" \
    "+ 64 groups, calibrated=$OUT/k64-cal" "+ 64 groups, seed 9, calibrated=$OUT/k64s9-cal" \
    "+ 64 groups, λ_rec 60, calibrated=$OUT/k64rec60-cal"
elif [ "$SET" = augment ]; then
  recipe=(--preset projector --steps 2000 --batch 64 --width 32 --latent 128 --source-mix 0.25 --w-rec 60 --noise fourier-mixture
    --noise-components 40 --threads 1)
  stroke=(--augment-families thicken,thin)
  thick=(--augment-families thicken)
  train_cal bundled "${recipe[@]}"
  train_cal all25 "${recipe[@]}" --augment 0.25
  train_cal all50 "${recipe[@]}" --augment 0.5
  for p in 25 15 10 08 05 03; do train_cal "s$p" "${recipe[@]}" "${stroke[@]}" --augment "0.$p"; done
  for p in 08 05 03; do train_cal "s${p}s9" "${recipe[@]}" "${stroke[@]}" --augment "0.$p" --seed 9; done
  train_cal n10 "${recipe[@]}" --augment-families thin --augment 0.1
  for p in 25 15 10 08 07 05; do train_cal "t$p" "${recipe[@]}" "${thick[@]}" --augment "0.$p"; done
  rows=("f bundled at \`be74ee3\` (start)=$START" "seventh cycle of \`4dfd283\` (no augmentation)=$OUT/bundled-cal"
    "+ augment 0.25, all families=$OUT/all25-cal" "+ augment 0.5, all families=$OUT/all50-cal")
  for p in 25 15 10 08 05 03; do
    rows+=("+ augment 0.$p, strokes=$OUT/s$p-cal")
    [ -d "$OUT/s${p}s9-cal" ] && rows+=("+ augment 0.$p, strokes, seed 9=$OUT/s${p}s9-cal")
  done
  rows+=("+ augment 0.1, thinner only=$OUT/n10-cal")
  for p in 25 15 10 08 07 05; do rows+=("+ augment 0.$p, thicker only=$OUT/t$p-cal"); done
  npm run --silent ablation-table -- "${rows[@]}"
  # The serving calibration's clean share on the thicker 0.1 run (and once on the f without augmentation).
  recal() {
    local name=$1 from=$2; shift 2
    if [ ! -f "$OUT/$name/generator.onnx" ]; then
      npm run --silent calibrate-bn -- "$from" --out "$OUT/$name" "$@"
      npm run --silent calibrate-bn -- "$OUT/$name" --generator
    fi
    [ -f "$OUT/$name/evaluation.json" ] || npm run --silent evaluate -- "$OUT/$name" --classifier-dir models/mnist-classifier
  }
  recal t10q625 "$OUT/t10" --clean-share 0.625
  recal t10q625s1 "$OUT/t10" --clean-share 0.625 --seed 1
  recal t10q75 "$OUT/t10" --clean-share 0.75
  recal t10clean "$OUT/t10" --source clean
  recal bundledq625 "$OUT/bundled" --clean-share 0.625
  npm run --silent ablation-table -- "thicker 0.1, serving calibration (clean share 0.5)=$OUT/t10-cal" \
    "thicker 0.1, clean share 0.625 (bundled)=$OUT/t10q625" "thicker 0.1, clean share 0.625, calibration seed 1=$OUT/t10q625s1" \
    "thicker 0.1, clean share 0.75=$OUT/t10q75" "thicker 0.1, clean images only=$OUT/t10clean" \
    "f bundled at \`4dfd283\`, clean share 0.5 (as bundled)=$OUT/bundled-cal" "f bundled at \`4dfd283\`, clean share 0.625=$OUT/bundledq625"
elif [ "$SET" = cycle4 ]; then
  recipe=("${SEVENTH_CYCLE[@]}")
  export CLEAN_SHARE=0.625
  train_cal bundled "${recipe[@]}" --steps 2000
  train_cal impulse3 "${recipe[@]}" --steps 2000 --source-weights impulse=3
  train_cal impulse6 "${recipe[@]}" --steps 2000 --source-weights impulse=6
  train_cal rec80 "${recipe[@]}" --steps 2000 --w-rec 80
  # The eighth cycle starts from the calibrated bundled f, as it would from models/mnist.
  INIT_FROM="$OUT/bundled-cal" train_cal eighth "${recipe[@]}" --steps 2000 --seed 9
  INIT_FROM="$OUT/bundled-cal" train_cal eighth1k "${recipe[@]}" --steps 1000 --seed 9
  INIT_FROM="$OUT/bundled-cal" train_cal eighthlr "${recipe[@]}" --steps 2000 --seed 9 --lr 5e-5
  INIT_FROM="$OUT/bundled-cal" train_cal eighthlrs10 "${recipe[@]}" --steps 2000 --seed 9 --lr 5e-5 --augment-families thicken,thin
  INIT_FROM="$OUT/bundled-cal" train_cal eighthlrs15 "${recipe[@]}" --steps 2000 --seed 9 --lr 5e-5 --augment-families thicken,thin \
    --augment 0.15
  npm run --silent ablation-table -- "seventh cycle as bundled=$OUT/bundled-cal" \
    "+ impulse weight 3=$OUT/impulse3-cal" "+ impulse weight 6=$OUT/impulse6-cal" "+ λ_rec 80=$OUT/rec80-cal" \
    "eighth cycle from the bundled f, seed 9=$OUT/eighth-cal" "eighth cycle, 1,000 steps=$OUT/eighth1k-cal" \
    "eighth cycle, lr 5e-5=$OUT/eighthlr-cal" "eighth cycle, lr 5e-5, thicker and thinner strokes 0.1=$OUT/eighthlrs10-cal" \
    "eighth cycle, lr 5e-5, strokes 0.15=$OUT/eighthlrs15-cal"
elif [ "$SET" = blend ] || [ "$SET" = groupnorm ] || [ "$SET" = normfirst ]; then
  normalisation_set
elif [ "$SET" = ninth ]; then
  ninth_set
elif [ "$SET" = eleventh ]; then
  eleventh_set
elif [ "$SET" = batch256 ]; then
  batch256_set
else
  # The projector preset clips mixture samples since this ablation; the base run turns it off.
  run projector   --preset projector --steps 500 --batch 64 --ema 0.995 --no-source-clip
  run notight     --preset projector --steps 500 --batch 64 --ema 0.995 --no-source-clip --source-tight 0
  run clip        --preset projector --steps 500 --batch 64 --ema 0.995 --source-clip
  run clipnotight --preset projector --steps 500 --batch 64 --ema 0.995 --source-clip --source-tight 0
  npm run --silent ablation-table -- \
    "projector, unclipped (base)=$OUT/projector" "+ no L_tight on mixture rows=$OUT/notight" "+ clipped mixture=$OUT/clip" \
    "+ both=$OUT/clipnotight"
fi
