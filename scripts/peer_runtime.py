"""The PyTorch peer's tuned runtime, as ../shared/peers/pytorch/run_all.sh sets it up, for the
scripts that measure nmt beside it (scripts/bench-peer, scripts/bench-peer-lm): OpenBLAS's OpenMP
build with the fastest kernels this CPU runs, tcmalloc, and the caps that hold both sides to
AVX2 (--isa avx2)."""
import os
import re

PEER_LIBDIR = '/usr/lib/x86_64-linux-gnu/openblas-openmp'
PEER_PRELOAD = '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4'
# Both sides as on an AVX2-only CPU: nmt's oneDNN capped; the peer on OpenBLAS's Haswell kernels
# with PyTorch's own kernels and its oneDNN capped too.
AVX2_CORETYPE = 'Haswell'
AVX2_NMT_ENV = {'ONEDNN_MAX_CPU_ISA': 'AVX2'}
AVX2_PEER_ENV = {'ATEN_CPU_CAPABILITY': 'avx2', 'ONEDNN_MAX_CPU_ISA': 'AVX2', 'DNNL_MAX_CPU_ISA': 'AVX2'}
# oneDNN's AVX-512 dispatch classes below this CPU's that --isa can hold nmt to (ONEDNN_MAX_CPU_ISA);
# the peer stays at its best there: its fp32 kernels use none of VNNI, BF16 or AMX.
AVX512_CLASSES = ('avx512_core', 'avx512_core_vnni', 'avx512_core_bf16')


def best_coretype():
    """OpenBLAS's fastest kernels this CPU runs: AVX-512 kernels on a CPU without them die with SIGILL."""
    with open('/proc/cpuinfo') as f:
        cpuinfo = f.read()
    if re.search(r'\bavx512f\b', cpuinfo):
        return 'SkylakeX'
    return 'Zen' if 'AuthenticAMD' in cpuinfo else 'Haswell'


def peer_environ(peer_work, threads, coretype, isa_env):
    """The environment the peer runs in."""
    env = dict(os.environ, PEER_WORK=peer_work, LD_LIBRARY_PATH=PEER_LIBDIR, OPENBLAS_CORETYPE=coretype,
               TCMALLOC_RELEASE_RATE='0', OMP_NUM_THREADS=str(threads), **isa_env)
    if os.path.isfile(PEER_PRELOAD):
        env['LD_PRELOAD'] = PEER_PRELOAD
    return env
