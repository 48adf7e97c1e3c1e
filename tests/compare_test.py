#!/usr/bin/python3
"""scripts/compare end to end on a tiny generated corpus: the report, its data files and charts
exist and hold one row a model; a second run retrains nothing; an interrupted model resumes.

  compare_test.py NMT_BINARY SOURCE_DIR
"""
import json
import os
import random
import subprocess
import sys
import tempfile
import importlib.machinery
import unittest

NMT, SOURCE = sys.argv[1], sys.argv[2]
COMPARE = os.path.join(SOURCE, 'scripts', 'compare')
MODELS = ('bottleneck', 'attention', 'transformer')


def write_corpus(d, name, n, rng):
    """Reversal of 3-8 words over a 12-word alphabet: learnable, and the target needs every source word."""
    words = 'ab cd ef gh ij kl mn op qr st uv wx'.split()
    src, trg = [], []
    for _ in range(n):
        s = [rng.choice(words) for _ in range(rng.randint(3, 8))]
        src.append(' '.join(s))
        trg.append(' '.join(w.upper() for w in reversed(s)))
    for side, lines in (('src', src), ('trg', trg)):
        with open(os.path.join(d, f'{name}.{side}'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    return os.path.join(d, f'{name}.src'), os.path.join(d, f'{name}.trg')


class CompareTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = os.environ.get('COMPARE_TEST_DIR') or cls.tmp.name  # set it to keep the files
        rng = random.Random(7)
        cls.train = write_corpus(d, 'train', 400, rng)
        cls.valid = write_corpus(d, 'valid', 30, rng)
        cls.test = write_corpus(d, 'test', 30, rng)
        cls.out = os.path.join(d, 'report')
        cls.first = cls.compare()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def compare(cls, *extra):
        argv = ['/usr/bin/python3', COMPARE, '--nmt', NMT, '--out', cls.out,
                '--train', *cls.train, '--valid', *cls.valid, '--test', *cls.test,
                '--after', '200u', '--valid-freq', '50u', '--vocab-size', '64', '--threads', '1', '--heatmaps', '2',
                '--train-args', '--disp-freq 10u --dim-emb 16 --dim-rnn 32 --dim-att 16 --mini-batch-words 300',
                '--bottleneck-args', '--learn-rate 0.01', '--attention-args', '--learn-rate 0.01',
                '--transformer-args', '--transformer-dim-ffn 32 --transformer-heads 2 --enc-depth 1 --dec-depth 1 '
                '--lr-warmup 10 --learn-rate 0.005', *extra]
        r = subprocess.run(argv, capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError(f'compare failed ({r.returncode}):\n{r.stderr[-4000:]}')
        return r

    def results(self):
        with open(os.path.join(self.out, 'results.json')) as f:
            return json.load(f)

    def test_report_has_a_row_and_figures_for_every_model(self):
        r = self.results()
        self.assertEqual(sorted(r['models']), sorted(MODELS))
        for m, x in r['models'].items():
            self.assertGreater(x['parameters'], 0, m)
            self.assertEqual(x['updates'], 200, m)
            self.assertGreater(x['tok_per_s'], 0, m)
            self.assertEqual([p['updates'] for p in x['curve']], [50, 100, 150, 200], m)
            self.assertIsInstance(x['flags'], list, m)
            for mode in ('greedy', 'beam'):
                t = x['test'][mode]
                self.assertEqual(t['sentences'], 30, (m, mode))
                self.assertGreaterEqual(t['bleu'], 0, (m, mode))
                self.assertEqual(sum(b['sentences'] for b in t['buckets']), 30, (m, mode))
        with open(os.path.join(self.out, 'results.tsv')) as f:
            rows = [l.split('\t') for l in f.read().splitlines()]
        self.assertEqual(rows[0][0], 'model')
        self.assertEqual(sorted(row[0] for row in rows[1:]), sorted(MODELS))
        self.assertTrue(all(len(row) == len(rows[0]) for row in rows))
        with open(os.path.join(self.out, 'report.md')) as f:
            report = f.read()
        for m in MODELS:
            self.assertIn(f'| {m} | ', report)
        for png in ['learning_curves.png', 'bleu_by_length_greedy.png', 'bleu_by_length_beam.png',
                    'attention_attention_1.png', 'attention_transformer_2.png']:
            self.assertIn(png, report)
            with open(os.path.join(self.out, png), 'rb') as f:
                self.assertEqual(f.read(8), b'\x89PNG\r\n\x1a\n', png)
        self.assertIn('| source words | sentences | bottleneck | attention | transformer |', report)
        self.assertFalse(os.path.exists(os.path.join(self.out, 'attention_bottleneck_1.png')))
        self.assertIn(' train --task transformer-tiny ', report)  # each type's best recipe by default
        self.assertEqual(self.results()['models']['attention']['task'], 'attention-sampled')

    def test_the_models_learned_something(self):
        # 200 updates on the reversal task: every model's validation perplexity falls far below
        # the uniform 64, and the attention model, which can look at each source word, already
        # translates much of it and beats the bottleneck model.
        r = self.results()['models']
        for m in MODELS:
            curve = [p['perplexity'] for p in r[m]['curve']]
            self.assertLess(curve[-1], curve[0], m)
            self.assertLess(r[m]['best_perplexity'], 8, m)
        self.assertGreater(r['attention']['test']['greedy']['chrf'], 25)
        self.assertGreater(r['attention']['test']['greedy']['bleu'], r['bottleneck']['test']['greedy']['bleu'])
        self.assertLess(r['attention']['best_perplexity'], r['bottleneck']['best_perplexity'])

    def test_heatmaps_are_attention_rows_labelled_by_pieces(self):
        for m in ('attention', 'transformer'):
            for h in self.results()['models'][m]['heatmaps']:
                self.assertEqual(len(h['weights']), len(h['target_pieces']), m)
                for row in h['weights']:
                    self.assertEqual(len(row), len(h['source_pieces']), m)
                    self.assertAlmostEqual(sum(row), 1.0, places=3)

    def test_rerun_retrains_nothing_and_interrupted_model_resumes(self):
        stamp = {m: os.path.getmtime(os.path.join(self.out, 'work', m, 'model.bin')) for m in MODELS}
        # The transformer "was interrupted": its done marker and its translations are missing.
        for f in ('train.done', 'test.greedy.json', 'test.beam.json'):
            os.remove(os.path.join(self.out, 'work', 'transformer', f))
        os.remove(os.path.join(self.out, 'results.json'))
        r = self.compare()
        self.assertIn('bottleneck: trained already', r.stderr)
        self.assertIn('attention: trained already', r.stderr)
        for m in ('bottleneck', 'attention'):
            self.assertEqual(os.path.getmtime(os.path.join(self.out, 'work', m, 'model.bin')), stamp[m], m)
        with open(os.path.join(self.out, 'work', 'transformer', 'train.log')) as f:
            log = f.read()
        self.assertIn('resuming from', log)
        self.assertEqual(self.results()['models']['transformer']['updates'], 200)

    def test_bad_arguments_exit_with_a_message(self):
        r = subprocess.run(['/usr/bin/python3', COMPARE, '--nmt', NMT, '--out', self.out, '--train', 'nope.src',
                            'nope.trg', '--valid', *self.valid, '--test', *self.test],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn('nope.src: no such file', r.stderr)
        r = subprocess.run(['/usr/bin/python3', COMPARE, '--nmt', NMT, '--out', self.out, '--models', 'lstm',
                            '--train', *self.train, '--valid', *self.valid, '--test', *self.test],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn('unknown model "lstm"', r.stderr)


class BudgetAndFlagsTest(unittest.TestCase):
    """The automatic validation frequency and the flags that mark a model compared before it learned."""

    @classmethod
    def setUpClass(cls):
        cls.c = importlib.machinery.SourceFileLoader('compare_script', COMPARE).load_module()

    def test_auto_validation_gives_every_curve_about_twelve_points(self):
        self.assertEqual(self.c.valid_freq('800u', 'auto'), '66u')
        self.assertEqual(self.c.valid_freq('9m', 'auto'), '0.75m')
        self.assertEqual(self.c.valid_freq('30m,5000u', 'auto'), '2.5m')
        self.assertEqual(self.c.valid_freq('5e', 'auto'), '1e')  # whole epochs at least
        self.assertEqual(self.c.valid_freq('800u', '50u'), '50u')  # an explicit frequency wins

    @staticmethod
    def curve(ppls, every=100):
        return {'curve': [{'updates': every * (i + 1), 'perplexity': p} for i, p in enumerate(ppls)]}

    def test_a_rising_learning_rate_at_the_end_is_a_warm_up(self):
        flags = self.c.training_flags(self.curve([50, 40, 39.9]), [1e-4, 2e-4, 3e-4])
        self.assertEqual(len(flags), 1)
        self.assertIn('warm-up', flags[0])
        self.assertEqual(self.c.training_flags(self.curve([50, 40, 39.9]), [7e-4, 5e-4, 4e-4]), [])

    def test_a_perplexity_still_falling_fast_is_under_training(self):
        flags = self.c.training_flags(self.curve([90, 60, 40, 30, 20]), [1e-3] * 5)
        self.assertEqual(len(flags), 1)
        self.assertIn('still fell 33% over its last 100 updates', flags[0])
        self.assertEqual(self.c.training_flags(self.curve([90, 60, 40, 30, 29]), [1e-3] * 5), [])


class LengthLessonTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r = importlib.machinery.SourceFileLoader('compare_report', os.path.join(
            SOURCE, 'scripts', 'compare_report.py')).load_module()

    @staticmethod
    def results(bleus, counts=(400, 440, 100, 30, 6)):
        """Five 5-word buckets; bleus maps a model to its BLEU in each."""
        return {'models': {m: {'test': {'beam': {'buckets': [
            {'from': 1 + 5 * i, 'to': 5 + 5 * i, 'sentences': n, 'bleu': b} for i, (n, b) in enumerate(zip(counts, bs))]}}}
            for m, bs in bleus.items()}}

    def test_buckets_too_small_for_a_bleu_are_left_out(self):
        rows = self.r.length_rows(self.results({'bottleneck': [20, 18, 12, 6, 1], 'attention': [40, 38, 35, 30, 9]}),
                                  'beam')
        self.assertEqual([label for label, _, _ in rows], ['1-5', '6-10', '11-15', '16-20'])
        self.assertEqual(rows[-1], ('16-20', 30, {'bottleneck': 6, 'attention': 30}))

    def test_a_lead_that_grows_with_the_length(self):
        rows = self.r.length_rows(self.results({'bottleneck': [20, 18, 12, 6, 1], 'attention': [40, 38, 35, 30, 9]}),
                                  'beam')
        lesson = self.r.length_lesson(rows)
        self.assertIn('bottleneck model keeps 30% of its BLEU (20.0 to 6.0)', lesson)
        self.assertIn('attention model 75% (40.0 to 30.0)', lesson)
        self.assertIn("lead grows with the length, from 2.00x to 5.00x (+20.0 to +24.0 points)", lesson)

    def test_a_lead_that_does_not_grow(self):
        rows = self.r.length_rows(self.results({'bottleneck': [20, 18, 12, 10, 1], 'attention': [40, 30, 25, 15, 9]}),
                                  'beam')
        self.assertIn('does not grow', self.r.length_lesson(rows))
        self.assertIsNone(self.r.length_lesson(self.r.length_rows(
            self.results({'transformer': [20, 18, 12, 10, 1], 'attention': [40, 30, 25, 15, 9]}), 'beam')))


class MachineAndMainJobTest(unittest.TestCase):
    """The report names the CPU by family and model; the main job's command line and its default budget."""

    def test_the_cpu_is_named_with_family_and_model(self):
        r = importlib.machinery.SourceFileLoader('compare_report', os.path.join(
            SOURCE, 'scripts', 'compare_report.py')).load_module()
        cpu = r.machine()['cpu']
        if os.path.isfile('/proc/cpuinfo'):
            self.assertRegex(cpu, r'\(family \d+, model \d+\)$')

    def run_main_job(self, *args):
        return subprocess.run([os.path.join(SOURCE, 'scripts', 'main-job'), *args], capture_output=True, text=True)

    def test_the_default_budget_is_650_updates(self):
        p = self.run_main_job('--help')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('default 650', p.stdout)

    def test_bad_options_are_refused_before_any_work(self):
        for args, message in ((['--updates', '0'], '--updates must be a positive whole number, got \'0\''),
                              (['--minutes', 'x'], '--minutes must be a number, got \'x\''),
                              (['--bogus'], 'unknown option --bogus')):
            p = self.run_main_job(*args)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(message, p.stderr)


if __name__ == '__main__':
    unittest.main(argv=sys.argv[:1])
