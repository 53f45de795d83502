#!/usr/bin/env bash
# One short GPU lease, used fully: the paper-scale GPU check (scripts/gpu_check.py) and the
# quick autoencoder's recipe screen (benchmarks/recipe_screen.py), in under 10 minutes.
#
#     bash benchmarks/gpu_lease.sh OUTPUT_FOLDER [SCREEN_SECONDS]
#
# The GPU check's stages 1 and 2 (training throughput) run with the GPU to themselves; the
# screen's datasets are built on the CPU meanwhile. The screen's trainings start when stage 2
# has printed its line, and share the GPU with the check's later stages (the full dataset's
# build, a short full-profile run, the 256³ extraction): those stages' seconds are shared-GPU
# seconds, their IoU and point counts are not affected. Training in the screen stops
# SCREEN_SECONDS (default 400) after this script started.
set -u
out=${1:?usage: gpu_lease.sh OUTPUT_FOLDER [SCREEN_SECONDS]}
screen_seconds=${2:-400}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
nvidia-smi -L >"$out/machine.txt" 2>&1
python3 -c "import torch, os; print('torch', torch.__version__, 'cores', os.cpu_count())" >>"$out/machine.txt" 2>&1

(cd benchmarks && python3 recipe_screen.py --build-only --workers 8) >"$out/screen_build.log" 2>&1 &
build=$!
python3 scripts/gpu_check.py --minutes 2.5 --iou-shapes 65 --json "$out/gpu_check.json" >"$out/gpu_check.log" 2>&1 &
check=$!
wait $build
until grep -q '^\[2\]' "$out/gpu_check.log" || ! kill -0 $check 2>/dev/null; do sleep 2; done
left=$((screen_seconds - SECONDS))
echo "screen starts at ${SECONDS} s, trains for at most ${left} s" >>"$out/machine.txt"
(cd benchmarks && python3 recipe_screen.py --device cuda --max-seconds "$left" --results "$out/recipe_screen.json") >"$out/screen.log" 2>&1
wait $check
echo "all done at ${SECONDS} s" >>"$out/machine.txt"
cat "$out/machine.txt"
grep -v '^\s*$' "$out/gpu_check.log" | grep -v 'it/s\]\|s/it\]' | tail -20
tail -12 "$out/screen.log"
