#!/bin/sh
# The CPU floor through the binary a user runs: under qemu's user-mode emulation of a CPU
# without AVX2 (Nehalem), `nmt` exits 1 naming the missing instructions instead of dying
# with SIGILL; on an emulated Haswell (AVX2, FMA) it runs. Skipped (77) without qemu-x86_64.
# Usage: cpu_floor_test.sh NMT_BINARY
nmt=$1
command -v qemu-x86_64 >/dev/null 2>&1 || { echo "qemu-x86_64 not installed (apt-get install qemu-user)"; exit 77; }
err=$(qemu-x86_64 -cpu Nehalem "$nmt" --version 2>&1 >/dev/null | grep -v '^qemu-x86_64: warning')
qemu-x86_64 -cpu Nehalem "$nmt" --version >/dev/null 2>&1
code=$?
[ "$code" -eq 1 ] || { echo "Nehalem: exit $code, expected 1; stderr: $err"; exit 1; }
case "$err" in
  *"lacks the x86-64-v3 instructions (AVX2, FMA"*) ;;
  *) echo "Nehalem: the message does not name the floor: $err"; exit 1 ;;
esac
out=$(qemu-x86_64 -cpu Haswell "$nmt" --version 2>/dev/null)
code=$?
[ "$code" -eq 0 ] && [ "${out#nmt }" != "$out" ] || { echo "Haswell: exit $code, output '$out'"; exit 1; }
echo "ok: Nehalem refused with exit 1, Haswell runs"
