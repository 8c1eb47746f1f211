#!/usr/bin/env bash
# The run helpers of scripts/ablations.sh (sourced there; needs OUT, START and the common array).
# WIDTH=n LATENT=m run NAME …: a run at another width / latent size (the start f is widened to it).
run() {
  local name=$1; shift
  if [ ! -f "$OUT/$name/model.onnx" ]; then
    npm run --silent train -- "${common[@]}" --init-from "$START" --width "${WIDTH:-32}" --latent "${LATENT:-128}" "$@" --out "$OUT/runs/$name" --export "$OUT/$name"
  fi
  if [ ! -f "$OUT/$name/evaluation.json" ]; then
    npm run --silent evaluate -- "$OUT/$name" --classifier-dir models/mnist-classifier
  fi
}
calibrate() {
  local name=$1 from=$2; shift 2
  if [ ! -f "$OUT/$name/model.onnx" ]; then
    npm run --silent calibrate-bn -- "$from" --out "$OUT/$name" "$@"
  fi
  if [ ! -f "$OUT/$name/evaluation.json" ]; then
    npm run --silent evaluate -- "$OUT/$name" --classifier-dir models/mnist-classifier
  fi
}
# NAME-cal: run NAME with serving statistics and a generation file (the shipped post-processing);
# CLEAN_SHARE=q calibrates with that share of clean batches (default: calibrate-bn's), BN_BLEND=a
# with blended BatchNorm (default: the card's). SAMPLES_MIXTURE=p instead writes NAME-samples: the
# generation file on z batches with a share p of mixture rows, then f's statistics from its own
# samples of such batches (`--source samples`).
with_calibration() {
  local name=$1 dst="$OUT/$1-cal"
  [ -n "${SAMPLES_MIXTURE:-}" ] && dst="$OUT/$1-samples"
  if [ ! -f "$dst/generator.onnx" ]; then
    if [ -n "${SAMPLES_MIXTURE:-}" ]; then
      npm run --silent calibrate-bn -- "$OUT/$name" --out "$dst" --generator --mixture "$SAMPLES_MIXTURE"
      npm run --silent calibrate-bn -- "$dst" --source samples --mixture "$SAMPLES_MIXTURE" ${BN_BLEND:+--bn-blend "$BN_BLEND"}
    else
      npm run --silent calibrate-bn -- "$OUT/$name" --out "$dst" ${CLEAN_SHARE:+--clean-share "$CLEAN_SHARE"} ${BN_BLEND:+--bn-blend "$BN_BLEND"}
      npm run --silent calibrate-bn -- "$dst" --generator
    fi
  fi
  if [ ! -f "$dst/evaluation.json" ]; then
    npm run --silent evaluate -- "$dst" --classifier-dir models/mnist-classifier
  fi
}
# train_cal NAME …: train NAME without evaluating it, then NAME-cal as with_calibration;
# INIT_FROM=DIR starts it from DIR instead of the set's start f.
train_cal() {
  local name=$1; shift
  if [ ! -f "$OUT/$name/model.onnx" ]; then
    npm run --silent train -- "${common[@]}" --init-from "${INIT_FROM:-$START}" "$@" --out "$OUT/runs/$name" --export "$OUT/$name"
  fi
  with_calibration "$name"
}
# reeval NAME N SEED: NAME evaluated again on N test images with that evaluation seed, as NAME-nN-sSEED.
reeval() {
  local dst="$OUT/$1-n$2-s$3"
  if [ ! -f "$dst/evaluation.json" ]; then
    rm -rf "$dst" && cp -r "$OUT/$1" "$dst" && rm -f "$dst/evaluation.json"
    npm run --silent evaluate -- "$dst" --classifier-dir models/mnist-classifier --n "$2" --seed "$3"
  fi
}
