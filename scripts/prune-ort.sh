#!/bin/sh
# SPDX-License-Identifier: MIT
# Keeps only onnxruntime-node's linux/x64 binaries (bin/napi-v6/linux/x64, ≈45 MB of 288 MB): the
# image runs nowhere else. Run from the directory holding node_modules; fails if the binding is gone.
set -eu
ort=node_modules/onnxruntime-node/bin/napi-v6
find "$ort" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +
find "$ort/linux" -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} +
test -f "$ort/linux/x64/onnxruntime_binding.node"
