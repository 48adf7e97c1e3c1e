#!/usr/bin/python3
"""scripts/bench-peer without PyTorch or the corpora:
  BenchPeerUsageTest     --help, and bad arguments refused with a message naming them;
  BenchPeerFakePeerTest  a --quick run end to end with the real nmt on a tiny generated corpus
                         and a stand-in for the peer's Python (fixed figures, the environment it
                         was given recorded), checking the tables, the ratios and the runtimes.

  bench_peer_test.py NMT_BINARY SOURCE_DIR [unittest arguments, e.g. a test class]
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import unittest

NMT, SOURCE = sys.argv[1], sys.argv[2]
BENCH_PEER = os.path.join(SOURCE, 'scripts', 'bench-peer')
sys.path.insert(0, os.path.join(SOURCE, 'scripts'))
from peer_runtime import best_coretype  # noqa: E402  (the kernels bench-peer must pick here)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_fixtures import install_fake_peer, random_sentences, write_gz  # noqa: E402

# Stands in for PEER_PYTHON: answers the three ways bench-peer calls the peer's Python with fixed
# figures, and records the environment of each call in $PEER_WORK/env-CALL.json.
FAKE_PYTHON = textwrap.dedent('''\
    #!/usr/bin/python3
    import json, os, sys
    work = os.environ.get('PEER_WORK', '.')
    def record(call):
        keys = ('OPENBLAS_CORETYPE', 'ATEN_CPU_CAPABILITY', 'ONEDNN_MAX_CPU_ISA', 'OMP_NUM_THREADS', 'PEER_WORK')
        with open(os.path.join(work, f'env-{call}.json'), 'w') as f:
            json.dump({k: os.environ.get(k) for k in keys}, f)
    args = sys.argv[1:]
    if args[0] == '-c':
        print('0.0+fake')
    elif os.path.basename(args[0]) == 'torch_nmt.py' and args[1] == 'spm':
        record('spm')
        open(os.path.join(work, 'spm8k.model'), 'w').close()
    elif os.path.basename(args[0]) == 'torch_nmt.py' and args[1] == 'run':
        record('run')
        model = args[args.index('--model') + 1]
        tag = args[args.index('--tag') + 1]
        with open(os.path.join(work, f'{model}.{tag}.tput.json'), 'w') as f:
            json.dump({'params': 123456, 'tput': {'tok_per_s': 1000.0, 'peak_rss_mib': 500.0}}, f)
        print(f'THROUGHPUT {model}: 1000 src+tgt tok/s, 500 tgt tok/s, 0.100 s/step, peak RSS 500 MiB')
    elif os.path.basename(args[0]) == 'peer_decode.py':
        record('decode')
        if os.environ.get('FAKE_PEER_FAIL') == 'decode':
            sys.exit('peer_decode.py: failing as asked')
        run = {'seconds': 1.0, 'sent_per_s': 100.0, 'tgt_tokens': 1500, 'tgt_tok_per_s': 1500.0}
        print('peer attention greedy: ...', file=sys.stderr)
        print(json.dumps({'model': args[args.index('--model') + 1], 'greedy': run, 'beam5': dict(run, sent_per_s=50.0)}))
    else:
        sys.exit(f'fake python: unexpected call {args}')
''')


def bench_peer(*args, env=None):
    return subprocess.run(['/usr/bin/python3', BENCH_PEER, *args], capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})))


class BenchPeerUsageTest(unittest.TestCase):
    def test_help_prints_the_options(self):
        r = bench_peer('--help')
        self.assertEqual(r.returncode, 0, r.stderr)
        for option in ('--threads', '--models', '--train', '--translate', '--nmt-models', '--peer-work', '--out',
                       '--work', '--gemm-type', '--precision', '--nmt-train-args', '--quick', '--isa', 'DATA_DIR'):
            self.assertIn(option, r.stdout)

    def test_bad_arguments_are_refused_with_the_value(self):
        with tempfile.TemporaryDirectory() as d:
            cases = [(['--bogus', d], '--bogus'), ([], 'DATA_DIR'), (['--threads', '0', d], 'got 0'),
                     (['--threads', 'two', d], "'two'"), (['--isa', 'sse', d], "'sse'"),
                     (['--models', 'attention lstm', d], "'lstm'"), (['--precision', 'half', d], "'half'"),
                     (['--gemm-type', 'int4+shortlist', d], "'int4+shortlist'"),
                     ([os.path.join(d, 'nowhere')], 'nowhere'), ([d], 'train.en.gz missing'),
                     (['--nmt-train-args', '"unclosed', d], 'unclosed')]
            for args, message in cases:
                r = bench_peer(*args)
                self.assertNotEqual(r.returncode, 0, args)
                self.assertIn(message, r.stderr, args)
                self.assertEqual(r.stdout, '', args)


class BenchPeerFakePeerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.d = cls.tmp.name
        src = random_sentences(3, 'ab cd ef gh ij kl mn op qr st uv wx'.split(), 300, 3, 8)
        cls.data = os.path.join(d, 'data')
        os.makedirs(cls.data)
        write_gz(os.path.join(cls.data, 'train.en.gz'), src)
        write_gz(os.path.join(cls.data, 'train.de.gz'), [s.upper() for s in src])
        write_gz(os.path.join(cls.data, 'test_2016_flickr.en.gz'), src[:10])
        cls.models = os.path.join(d, 'models')
        os.makedirs(cls.models)
        vocab = os.path.join(cls.models, 'joint.spm')
        train = [os.path.join(cls.data, f'train.{l}.gz') for l in ('en', 'de')]
        cls.nmt('vocab', '--train-sets', *train, '-o', vocab, '--vocab-size', '64')
        cls.nmt('train', '--type', 'attention', '--train-sets', *train, '--vocabs', vocab, vocab, '--model',
                os.path.join(cls.models, 'attention.bin'), '--after', '2u', '--dim-emb', '8', '--dim-rnn', '16',
                '--dim-att', '8', '--cpu-threads', '1')
        cls.peer_work = os.path.join(d, 'peer-work')
        os.makedirs(cls.peer_work)
        open(os.path.join(cls.peer_work, 'attention.pt'), 'w').close()
        cls.env = dict(install_fake_peer(d, 'torch_nmt.py', FAKE_PYTHON), NMT=NMT)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def nmt(cls, *args):
        r = subprocess.run([NMT, *args], capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError(f'nmt {" ".join(args)} failed:\n{r.stderr}')

    def run_bench_peer(self, work, *args, env=None):
        r = bench_peer('--threads', '1', '--models', 'attention', '--quick', '--peer-work', self.peer_work,
                       '--work', work, *args, self.data, env=dict(self.env, **(env or {})))
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def peer_env(self, call):
        with open(os.path.join(self.peer_work, f'env-{call}.json')) as f:
            return json.load(f)

    def test_quick_run_on_avx2_fills_both_tables(self):
        work, out = os.path.join(self.d, 'work-avx2'), os.path.join(self.d, 'tables.md')
        r = self.run_bench_peer(work, '--isa', 'avx2', '--nmt-models', self.models, '--gemm-type', 'float32 int8',
                                '--nmt-train-args', '--dim-emb 8 --dim-rnn 16 --dim-att 8', '--out', out)
        self.assertIn('peer: OpenBLAS Haswell kernels ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 '
                      'DNNL_MAX_CPU_ISA=AVX2 + tcmalloc; nmt: oneDNN ONEDNN_MAX_CPU_ISA=AVX2', r.stderr)
        with open(out) as f:
            self.assertEqual(f.read(), r.stdout)
        self.assertIn('QUICK RUN', r.stdout)
        self.assertIn('torch 0.0+fake', r.stdout)
        # Training: nmt's figures are its JSON report's, the peer's the fake's, and the ratios theirs.
        with open(os.path.join(work, 'nmt-train-attention-float32.json')) as f:
            train = json.load(f)
        self.assertEqual(train['onednn_isa'], 'avx2')
        self.assertEqual(train['threads'], 1)
        row = (f"| attention | float32 | {train['steady_tok_per_s']:.0f} | 1000 | "
               f"{train['steady_tok_per_s'] / 1000:.2f}× | {train['peak_rss_mib']:.0f} MiB | 500 MiB | "
               f"{train['peak_rss_mib'] / 500:.2f}× | {train['first_pass_tok_per_s']:.0f} | "
               f"{train['first_pass_tok_per_s'] / 1000:.2f}× | {train['parameters'] / 1e6:.2f}M / 0.12M |")
        self.assertIn(row, r.stdout)
        # Decoding: a row per search and gemm type, greedy first.
        rows = re.findall(r'^\| attention \| (greedy|beam 5) \| (float32|int8) \| ([0-9.]+) \| ([0-9.]+) \| '
                          r'([0-9.]+)× \|.*\|$', r.stdout, re.M)
        self.assertEqual([(s, g) for s, g, *_ in rows],
                         [('greedy', 'float32'), ('greedy', 'int8'), ('beam 5', 'float32'), ('beam 5', 'int8')])
        for search, gemm, nmt_sent, peer_sent, ratio in rows:
            with open(os.path.join(work, f'nmt-translate-attention-{gemm}.json')) as f:
                j = json.load(f)
            sent = j['greedy' if search == 'greedy' else 'beam5']['sentences_per_s']
            self.assertEqual(nmt_sent, f'{sent:.1f}')
            self.assertEqual(peer_sent, '100.0' if search == 'greedy' else '50.0')
            self.assertEqual(ratio, f"{sent / float(peer_sent):.2f}")
        self.assertIn('## Decoding: test-quick.en (10 sentences)', r.stdout)
        for call in ('run', 'decode'):
            self.assertEqual(self.peer_env(call), {'OPENBLAS_CORETYPE': 'Haswell', 'ATEN_CPU_CAPABILITY': 'avx2',
                                                   'ONEDNN_MAX_CPU_ISA': 'AVX2', 'OMP_NUM_THREADS': '1',
                                                   'PEER_WORK': self.peer_work}, call)

    def test_native_run_picks_the_cpus_kernels_and_reports_what_failed(self):
        work = os.path.join(self.d, 'work-native')
        r = self.run_bench_peer(work, '--translate', '--nmt-models', self.models, env={'FAKE_PEER_FAIL': 'decode'})
        coretype = best_coretype()
        self.assertIn(f'peer: OpenBLAS {coretype} kernels + tcmalloc; nmt: oneDNN native dispatch', r.stderr)
        self.assertEqual(self.peer_env('decode')['OPENBLAS_CORETYPE'], coretype)
        self.assertIsNone(self.peer_env('decode')['ATEN_CPU_CAPABILITY'])
        self.assertIn('peer decoding attention failed', r.stderr)
        self.assertNotIn('## Training', r.stdout)
        # nmt's figures stay; the peer's and the ratios are dashes.
        self.assertRegex(r.stdout, r'\| attention \| greedy \| float32 \| [0-9.]+ \| — \| — \| [0-9]+ \| — \| — \| '
                                   r'[0-9.]+ \| — \|')
        r = self.run_bench_peer(os.path.join(self.d, 'work-skip'), '--translate')
        self.assertIn('| attention | — | — | skipped: no --nmt-models folder given | | | | | | | |', r.stdout)


if __name__ == '__main__':
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:])
