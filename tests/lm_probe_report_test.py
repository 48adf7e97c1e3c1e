#!/usr/bin/python3
"""scripts/lm-probe-report end to end: two tiny language models trained on generated text, probed
by the script (nmt lm-probe), charts, report and results, with samples (nmt generate) and the
training logs' speed and perplexity; a second run probes and samples nothing again; a report from
tables alone.

  lm_probe_report_test.py NMT_BINARY SOURCE_DIR
"""
import json
import os
import random
import subprocess
import sys
import tempfile
import unittest

NMT, SOURCE = sys.argv[1], sys.argv[2]
SCRIPT = os.path.join(SOURCE, 'scripts', 'lm-probe-report')


def write_text(path, n, rng):
    syllables = 'ka lo mi ne su ta ro vi'.split()
    with open(path, 'w') as f:
        for _ in range(n):
            f.write(' '.join(''.join(rng.choice(syllables) for _ in range(rng.randint(1, 3)))
                             for _ in range(rng.randint(2, 8))) + '\n')


class LmProbeReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.d = cls.tmp.name
        rng = random.Random(3)
        write_text(os.path.join(d, 'train.txt'), 300, rng)
        write_text(os.path.join(d, 'valid.txt'), 30, rng)
        for name, kind in (('rnn', ['--type', 'lm', '--cell', 'rnn']),
                           ('tf', ['--type', 'lm-transformer', '--lm-mode', 'stream', '--bptt', '12'])):
            subprocess.run([NMT, 'train', '-t', os.path.join(d, 'train.txt'), '-v', os.path.join(d, 'v.spm'),
                            '--vocab-size', '24', '-m', os.path.join(d, name + '.bin'), '--dim-emb', '16',
                            '--dim-rnn', '16', '--transformer-heads', '2', '--transformer-dim-ffn', '16',
                            '--after', '5u', '--disp-freq', '1u', '--valid-sets', os.path.join(d, 'valid.txt'),
                            '--valid-freq', '5u', '--log', os.path.join(d, name + '.log'), '--cpu-threads', '1',
                            *kind], check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_script(self, *args):
        r = subprocess.run([SCRIPT, '--nmt', NMT, '--cpu-threads', '1', *args], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def test_report_from_models_then_from_tables(self):
        out = os.path.join(self.d, 'report')
        models = ['--text', os.path.join(self.d, 'valid.txt'), '--max-distance', '6', '--positions', '50',
                  '--context-lengths', '1', '3', '--models', 'rnn=' + os.path.join(self.d, 'rnn.bin'),
                  'tf=' + os.path.join(self.d, 'tf.bin'), '--out', out, '--samples', '2',
                  '--logs', 'rnn=' + os.path.join(self.d, 'rnn.log'), 'tf=' + os.path.join(self.d, 'tf.log')]
        first = self.run_script(*models)
        self.assertEqual(first.stderr.count(' lm-probe -m '), 2, first.stderr)
        self.assertEqual(first.stderr.count(' generate -m '), 2, first.stderr)
        for f in ('gradient_norms.png', 'context_perplexity.png', 'report.md', 'results.json', 'rnn.tsv', 'tf.tsv',
                  'rnn.samples.txt', 'tf.samples.txt'):
            self.assertTrue(os.path.getsize(os.path.join(out, f)) > 0, f)
        with open(os.path.join(out, 'results.json')) as f:
            results = json.load(f)
        self.assertEqual(sorted(results['models']), ['rnn', 'tf'])
        for t in results['models'].values():
            self.assertEqual([g[0] for g in t['gradient']], list(range(7)))
            self.assertEqual([c[0] for c in t['context']], [1, 3])
            self.assertGreater(t['whole'], 1.0)
        for name in ('rnn', 'tf'):
            self.assertEqual(len(results['samples'][name]), 2)
            # The log's last validation perplexity and a speed from its display lines (5 updates, one a line).
            with open(os.path.join(self.d, name + '.log')) as f:
                log = f.read()
            self.assertIn(f"perplexity {results['training'][name]['perplexity']:.4f}", log)
            self.assertGreater(results['training'][name]['tokens_per_second'], 0)
        report = open(os.path.join(out, 'report.md')).read()
        self.assertIn('| rnn |', report)
        self.assertIn('lm-probe -m', report)
        self.assertIn('## Samples', report)
        self.assertIn('## Training', report)
        # Resumable: the tables and samples are there, nothing is probed or sampled again.
        second = self.run_script(*models)
        self.assertNotIn(' lm-probe -m ', second.stderr)
        self.assertNotIn(' generate -m ', second.stderr)
        # From tables alone.
        out2 = os.path.join(self.d, 'report2')
        self.run_script('--tables', os.path.join(out, 'rnn.tsv'), os.path.join(out, 'tf.tsv'), '--out', out2)
        with open(os.path.join(out2, 'results.json')) as f:
            self.assertEqual(json.load(f)['models'], results['models'])

    def test_usage_errors(self):
        r = subprocess.run([SCRIPT, '--out', os.path.join(self.d, 'x')], capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn('give --models', r.stderr)
        r = subprocess.run([SCRIPT, '--out', os.path.join(self.d, 'x'), '--text', 'v.txt', '--models', 'oops'],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("--models takes NAME=MODEL, got 'oops'", r.stderr)


if __name__ == '__main__':
    unittest.main(argv=[sys.argv[0]])
