#!/usr/bin/python3
"""scripts/bench-peer-lm without PyTorch or the corpora:
  BenchPeerLmUsageTest     --help, and bad arguments refused with a message naming them;
  BenchPeerLmFakePeerTest  runs end to end with the real nmt (tiny models on a generated text) and
                           a stand-in for the peer's Python with fixed figures: the speed table's
                           ratios, nmt's matrix products against the matmul peak, --no-peer, and
                           the perplexity table of --minutes.

  bench_peer_lm_test.py NMT_BINARY SOURCE_DIR [unittest arguments, e.g. a test class]
"""
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import unittest

NMT, SOURCE = os.path.abspath(sys.argv[1]), sys.argv[2]
BENCH = os.path.join(SOURCE, 'scripts', 'bench-peer-lm')
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_fixtures import install_fake_peer, random_sentences, write_gz  # noqa: E402

# Stands in for PEER_PYTHON: `torch_lm.py spm` makes the SentencePiece model with nmt vocab;
# `torch_lm.py run` answers with fixed figures (and counts its calls in $PEER_WORK/calls).
FAKE_PYTHON = textwrap.dedent('''\
    #!/usr/bin/python3
    import os, subprocess, sys
    args = sys.argv[1:]
    with open(os.path.join(os.environ['PEER_WORK'], 'calls'), 'a') as f:
        f.write(' '.join(args[1:3]) + '\\n')
    if os.path.basename(args[0]) != 'torch_lm.py':
        sys.exit(f'fake python: unexpected call {args}')
    if args[1] == 'spm':
        text = args[args.index('--text') + 1]
        subprocess.run([os.environ['NMT'], 'vocab', '--train-sets', text, '-o', 'lm.spm.model', '--vocab-size', '32'],
                       check=True, capture_output=True)
    elif '--tput-only' in args:  # the lines of torch_lm.py
        print('THROUGHPUT 1000 pieces/s (steady, 35840 pieces in 35.8 s); peak RSS 500 MiB; 1 threads')
    elif '--valid' in args:
        print('THROUGHPUT 900 pieces/s (steady, 6300 pieces in 7.0 s); peak RSS 400 MiB; 1 threads')
        print('VALID perplexity per piece 50.00, per word 120.00 (900 pieces, 400 words incl. </s>) after 7 updates, '
              '1 epochs')
    else:
        sys.exit(f'fake python: unexpected call {args}')
''')


def bench(*args, env=None):
    return subprocess.run(['/usr/bin/python3', BENCH, *args], capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})))


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


class BenchPeerLmUsageTest(unittest.TestCase):
    def test_help_prints_the_options(self):
        r = bench('--help')
        self.assertEqual(r.returncode, 0, r.stderr)
        for option in ('--cells', '--precision', '--isa', '--threads', '--updates', '--minutes', '--keep-models',
                       '--nmt-train-args', '--no-peer', '--work', '--out', 'DATA_DIR'):
            self.assertIn(option, r.stdout)

    def test_bad_arguments_are_refused_with_the_value(self):
        with tempfile.TemporaryDirectory() as d:
            for args, message in [(['--bogus', d], '--bogus'), ([], 'DATA_DIR'), (['--cells', 'lstm cnn', d], "'cnn'"),
                                  (['--precision', 'half', d], "'half'"), (['--isa', 'sse', d], "'sse'"),
                                  (['--isa', 'avx512', d], "'avx512'")]:
                r = bench(*args)
                self.assertNotEqual(r.returncode, 0, args)
                self.assertIn(message, r.stderr, args)
                self.assertEqual(r.stdout, '', args)


class BenchPeerLmFakePeerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.d = cls.tmp.name
        text = random_sentences(5, 'the a cat dog sat ran on under mat log and then'.split(), 400, 4, 9)
        cls.data = os.path.join(d, 'data')
        os.makedirs(cls.data)
        write_gz(os.path.join(cls.data, 'train.en.gz'), text)
        write_gz(os.path.join(cls.data, 'dev.en.gz'), text[:40])
        cls.env = dict(install_fake_peer(d, 'torch_lm.py', FAKE_PYTHON), NMT=NMT)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_bench(self, name, *args):
        work = os.path.join(self.d, name)
        r = bench('--threads', '1', '--cells', 'rnn', '--updates', '20', '--nmt-train-args',
                  '--dim-emb 16 --dim-rnn 16', '--work', work, *args, self.data, env=self.env)
        logs = ''.join(f'--- {f}\n' + read(os.path.join(work, f)) for f in sorted(os.listdir(work))
                       if f.endswith('.log')) if os.path.isdir(work) else ''
        self.assertEqual(r.returncode, 0, r.stderr + logs)
        calls = os.path.join(work, 'calls')  # the peer's calls, one a line
        return r.stdout, read(calls).splitlines() if os.path.exists(calls) else []

    @staticmethod
    def rows(table, first):
        return [[c.strip() for c in line.strip('|').split('|')] for line in table.splitlines()
                if line.startswith(f'| {first} |')]

    def test_speed_table_sets_nmt_beside_the_peer_and_its_products_beside_the_matmul_peak(self):
        out, calls = self.run_bench('speed')
        self.assertIn('bench-peer-lm on ', out)
        [row] = self.rows(out, 'rnn')
        cell, precision, nmt_tps, peer_tps, ratio, nmt_mib, peer_mib, mib_ratio, products = row
        self.assertEqual((cell, precision, peer_tps, peer_mib), ('rnn', 'float32', '1,000', '500 MiB'))
        tps = float(nmt_tps.replace(',', ''))
        self.assertGreater(tps, 0)
        self.assertEqual(ratio, f'{tps / 1000:.2f}x')
        self.assertEqual(mib_ratio, f'{float(nmt_mib.split()[0]) / 500:.2f}x')
        m = re.fullmatch(r'([0-9]+) \(([0-9]+)% of ([0-9]+)\)', products)
        self.assertIsNotNone(m, products)
        gflops, percent, peak = (float(x) for x in m.groups())
        self.assertGreater(peak, 1)  # a 2048x1024x1024 matmul on one thread
        self.assertAlmostEqual(percent, 100 * gflops / peak, delta=1 + 100 / peak)  # the printed figures are rounded
        self.assertEqual(calls, ['spm --text', 'run --text'])

    def test_isa_holds_nmt_to_that_class(self):
        self.run_bench('avx2', '--isa', 'avx2')
        log = read(os.path.join(self.d, 'avx2', 'nmt-rnn-float32.matmul.log'))
        self.assertIn('"onednn_isa": "avx2"', log)  # the peak is measured as the model ran: capped

    def test_no_peer_trains_nmt_alone_and_keeps_its_models(self):
        models = os.path.join(self.d, 'models')
        out, calls = self.run_bench('alone', '--no-peer', '--minutes', '0.05', '--keep-models', models)
        [speed, quality] = self.rows(out, 'rnn')
        self.assertEqual(speed[3:5] + speed[6:8], ['-', '-', '-', '-'])
        self.assertEqual(len(quality), 12)
        self.assertEqual([quality[i] for i in (4, 6, 8, 10, 11)], ['-'] * 5)
        self.assertGreater(float(quality[2]), 1)  # nmt's perplexity per piece of the dev text's second half
        self.assertTrue(os.path.exists(os.path.join(models, 'rnn.bin')))
        self.assertEqual(calls, ['spm --text'])  # the peer's SentencePiece model, no training of the peer

    def test_minutes_compare_perplexities_with_the_peer(self):
        out, calls = self.run_bench('quality', '--minutes', '0.05')
        [_, quality] = self.rows(out, 'rnn')
        self.assertEqual([quality[i] for i in (4, 6, 8, 10)], ['50.00', '120', '7', '400 MiB'])
        self.assertEqual(quality[11], f"{float(quality[9].split()[0]) / 400:.2f}x")
        self.assertEqual(calls, ['spm --text', 'run --text', 'run --text'])


if __name__ == '__main__':
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:])
