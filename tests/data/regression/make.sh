#!/bin/bash
# How the regression models in this folder were made (tests/cli_regression_test.cc): three tiny
# models trained by `nmt train` on a synthetic task (reverse a sequence of 3-8 symbols), and
# the outputs they gave when they were made. The test expects every later nmt to load them
# and give the same outputs: the model format and the search stay compatible.
# Usage: tests/data/regression/make.sh NMT_BINARY   (rewrites the models and expected outputs)
set -euo pipefail
nmt=$(realpath "$1")
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import random, sys
work = sys.argv[1]
sym = "b c d f g h j k m n p q r s t v".split()
def pairs(n, seed):
    r = random.Random(seed)
    out = []
    for _ in range(n):
        w = [r.choice(sym) for _ in range(r.randint(3, 8))]
        out.append((" ".join(w), " ".join(reversed(w))))
    return out
for name, n, seed in (("train", 8000, 1), ("valid", 100, 2), ("input", 40, 3)):
    ps = pairs(n, seed)
    if name == "input":
        ps[5] = ("", "")  # an empty line gives an empty line
    with open(f"{work}/{name}.src", "w") as s, open(f"{work}/{name}.trg", "w") as t:
        for a, b in ps:
            s.write(a + "\n"); t.write(b + "\n")
PY
cp "$work/input.src" input.txt
cp "$work/input.trg" reference.txt
common=(-t "$work/train.src" "$work/train.trg" --valid-sets "$work/valid.src" "$work/valid.trg"
        --vocab-size 37 --cpu-threads 1 --seed 1 --dropout 0 --label-smoothing 0 --mini-batch-words 400
        --valid-freq 500u --valid-metrics ce --early-stopping 0 --learn-rate 3e-3 --lr-warmup 200
        --optimizer-params 0.9 0.999 1e-8 --clip-norm 5)
train() {  # name, options...
  local name=$1; shift
  "$nmt" train "${common[@]}" -v "$work/$name.spm" "$work/$name.spm" -m "$work/$name.bin" "$@" 2> "$work/$name.log"
  cp "$work/$name.bin.best-ce" "$name.bin"
  "$nmt" translate -m "$name.bin" -i input.txt --cpu-threads 1 > "$name.beam5.txt"
  "$nmt" translate -m "$name.bin" -i input.txt --cpu-threads 1 -b 1 > "$name.greedy.txt"
  "$nmt" score -m "$name.bin" -t input.txt reference.txt --cpu-threads 1 > "$name.scores.txt"
}
train bottleneck --type bottleneck --cell gru --dim-emb 32 --dim-rnn 64 --after 5000u
train attention --type attention --dim-emb 16 --dim-rnn 32 --dim-att 16 --after 1500u
train transformer --type transformer --dim-emb 32 --transformer-dim-ffn 64 --enc-depth 1 --dec-depth 1 \
      --transformer-heads 2 --transformer-dropout 0 --after 1500u
ls -la
