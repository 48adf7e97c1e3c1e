#!/usr/bin/python3
"""nmt serve through HTTP, with the tiny models of tests/data/regression: answers equal to
`nmt translate` on the same lines (best, n-best with scores, alignments), one answer per
sentence and empty in empty out, several models, requests of concurrent clients, every
error status, a full queue, and SIGTERM finishing the request in flight.

  serve_api_test.py NMT_BINARY SOURCE_DIR [unittest arguments]
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from serve_helpers import Server, regression_model

NMT, SOURCE = sys.argv[1], sys.argv[2]
MODELS = ('attention', 'bottleneck', 'transformer')
INPUT = os.path.join(SOURCE, 'tests/data/regression/input.txt')


def read_lines(path):
    with open(path) as f:
        return f.read().split('\n')[:-1]


def nmt_translate(model, *args):
    r = subprocess.run([NMT, 'translate', '-m', regression_model(SOURCE, model), '--cpu-threads', '1',
                        '-i', INPUT, *args], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.split('\n')[:-1]


class ServeApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.lines = read_lines(INPUT)
        cls.server = Server(NMT, [*[a for m in MODELS for a in ('-m', f'{m}={regression_model(SOURCE, m)}')],
                                  '--cpu-threads', '1', '--batch-wait-ms', '20', '--max-body-bytes', '100000'],
                            os.path.join(cls.tmp.name, 'serve.log'))

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.tmp.cleanup()
        assert code == 0, code

    def ok(self, body):
        status, j = self.server.translate(body)
        self.assertEqual(status, 200, j)
        self.assertEqual(len(j['translations']), len(body['text']))
        return j

    def error(self, body, status, *words, method='POST', path='/v1/translate'):
        got, j = self.server.request(method, path, body)
        self.assertEqual(got, status, j)
        for w in words:
            self.assertIn(w, j['error'])
        return j

    def test_models_and_health(self):
        status, j = self.server.request('GET', '/v1/models')
        self.assertEqual(status, 200)
        self.assertEqual([m['name'] for m in j['models']], list(MODELS))
        self.assertEqual({m['name']: m['attention'] for m in j['models']},
                         {'attention': True, 'bottleneck': False, 'transformer': True})
        self.assertEqual(j['defaults']['beam_size'], 5)
        status, j = self.server.request('GET', '/health')
        self.assertEqual((status, j['status']), (200, 'ok'))

    def test_answers_equal_nmt_translate(self):
        for model in MODELS:
            for beam in (1, 5):
                with self.subTest(model=model, beam=beam):
                    j = self.ok({'text': self.lines, 'model': model, 'beam_size': beam})
                    self.assertEqual(j['model'], model)
                    self.assertEqual([t['text'] for t in j['translations']], nmt_translate(model, '-b', str(beam)))

    def test_n_best_equal_nmt_translate(self):
        j = self.ok({'text': self.lines, 'model': 'transformer', 'beam_size': 4, 'n_best': 3})
        want = {}
        for line in nmt_translate('transformer', '-b', '4', '--n-best', '--n-best-size', '3'):
            i, text, score, norm = line.split(' ||| ')
            want.setdefault(int(i), []).append((text, float(score.split()[1]), float(norm)))
        for i, t in enumerate(j['translations']):
            got = [(h['text'], h['score'], h['normalized_score']) for h in t['n_best']]
            if not self.lines[i]:
                self.assertEqual((t['text'], got), ('', []))
                continue
            self.assertEqual([g[0] for g in got], [w[0] for w in want[i]], i)
            for g, w in zip(got, want[i]):
                self.assertAlmostEqual(g[1], w[1], delta=1e-4 * max(1, abs(w[1])))
                self.assertAlmostEqual(g[2], w[2], delta=1e-4 * max(1, abs(w[2])))
            self.assertEqual((t['text'], t['score']), (got[0][0], got[0][1]))

    def test_alignment_equal_nmt_translate(self):
        for model in ('attention', 'transformer'):
            j = self.ok({'text': self.lines, 'model': model, 'beam_size': 1, 'alignment': True})
            for i, (t, line) in enumerate(zip(j['translations'], nmt_translate(model, '-b', '1', '--alignment', 'soft'))):
                text, rows = line.split(' ||| ')
                want = [[float(w) for w in row.split(',')] for row in rows.split()]
                self.assertEqual(t['text'], text)
                self.assertEqual(len(t['alignment']), len(want), (model, i))
                self.assertEqual(len(t['target_pieces']), len(want))
                for got_row, want_row in zip(t['alignment'], want):
                    self.assertEqual(len(got_row), len(t['source_pieces']))
                    for g, w in zip(got_row, want_row):
                        self.assertAlmostEqual(g, w, delta=1e-4)
                if self.lines[i]:
                    self.assertEqual(t['target_pieces'][-1], '</s>')
                    self.assertEqual(t['source_pieces'][-1], '</s>')

    def test_empty_in_empty_out(self):
        j = self.ok({'text': ['', 'g q v d', '', '   '], 'model': 'attention'})
        texts = [t['text'] for t in j['translations']]
        self.assertEqual(texts[0], '')
        self.assertEqual(texts[2], '')
        self.assertEqual(texts[3], '')
        self.assertNotEqual(texts[1], '')
        self.assertEqual(self.ok({'text': [], 'model': 'attention'})['translations'], [])

    def test_concurrent_clients_get_their_own_answers(self):
        # The tiny models all reverse their input, so their texts agree: the scores (and the
        # alignments) tell which model and which options answered.
        want = {}
        for m in MODELS:
            j = self.ok({'text': self.lines, 'model': m, 'beam_size': 3})
            want[m] = [(t['text'], t['score']) for t in j['translations']]
        results, errors = {}, []

        def client(k):
            model, i = MODELS[k % 3], k % len(self.lines)
            body = {'text': [self.lines[i]], 'model': model, 'beam_size': 3}
            if k % 2 and model != 'bottleneck':
                body['alignment'] = True
            try:
                status, j = self.server.translate(body)
                t = j['translations'][0]
                results[k] = (status, (t['text'], t['score']), want[model][i], 'alignment' in t, 'alignment' in body)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=client, args=(k,)) for k in range(60)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 60)
        for k, (status, got, expected, has_alignment, asked) in results.items():
            self.assertEqual((status, got[0], has_alignment), (200, expected[0], asked), k)
            self.assertAlmostEqual(got[1], expected[1], delta=1e-4, msg=k)

    def test_bad_requests_name_the_field(self):
        self.error('{"text": ["a"', 400, 'JSON')
        self.error('[1, 2]', 400, 'object')
        self.error({'model': 'attention'}, 400, 'text')
        self.error({'text': 'a b', 'model': 'attention'}, 400, 'text', 'array')
        self.error({'text': ['a', 3], 'model': 'attention'}, 400, 'text[1]')
        self.error({'text': ['a\nb'], 'model': 'attention'}, 400, 'text[0]', 'line')
        self.error({'text': ['a'], 'model': 'attention', 'beam_size': 0}, 400, 'beam_size')
        self.error({'text': ['a'], 'model': 'attention', 'beam_size': '5'}, 400, 'beam_size')
        self.error({'text': ['a'], 'model': 'attention', 'beam_size': 2, 'n_best': 3}, 400, 'n_best')
        self.error({'text': ['a'], 'model': 'attention', 'normalize': -1}, 400, 'normalize')
        self.error({'text': ['a'], 'model': 'attention', 'alignment': 'yes'}, 400, 'alignment')
        self.error({'text': ['a'], 'model': 'attention', 'beam': 5}, 400, "'beam'")
        self.error({'text': ['a'], 'model': 7}, 400, 'model')
        self.error({'text': ['a']}, 400, 'model', 'attention, bottleneck, transformer')
        self.error({'text': ['a'], 'model': 'bottleneck', 'alignment': True}, 400, 'alignment', 'no attention')
        self.error(b'{"text": ["\xff"], "model": "attention"}', 400, 'UTF-8')

    def test_unknown_model_route_method(self):
        self.error({'text': ['a'], 'model': 'nope'}, 404, "'nope'")
        self.error(None, 404, '/v2/x', method='GET', path='/v2/x')
        self.error(None, 405, 'POST', method='GET')
        self.error({}, 405, 'GET', path='/v1/models')

    def test_oversized_body_is_413(self):
        body = json.dumps({'text': ['g q v d'] * 20000, 'model': 'attention'})
        self.assertGreater(len(body), 100000)
        self.error(body, 413, '100000')

    def test_not_http_is_400_and_the_server_lives_on(self):
        with socket.create_connection(('127.0.0.1', self.server.port), timeout=10) as s:
            s.sendall(b'\x16\x03\x01 garbage\r\n\r\n')
            self.assertIn(b' 400 ', s.recv(1000))
        self.ok({'text': ['g q v d'], 'model': 'attention'})

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        import http.client
        c = http.client.HTTPConnection('127.0.0.1', self.server.port, timeout=30)
        for line in self.lines[:5]:
            c.request('POST', '/v1/translate', body=json.dumps({'text': [line], 'model': 'bottleneck'}))
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            r.read()
        c.close()


class ServeLifecycleTest(unittest.TestCase):
    """Servers of their own: a queue of one, and SIGTERM with a request in flight."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def start(self, *args):
        return Server(NMT, ['-m', regression_model(SOURCE, 'attention'), '--cpu-threads', '1', *args],
                      os.path.join(self.tmp.name, 'serve.log'))

    def wait_queued(self, server, n):
        deadline = time.time() + 30
        while server.request('GET', '/health')[1]['queued'] != n:
            self.assertLess(time.time(), deadline)
            time.sleep(0.02)

    def in_background(self, server, body):
        out = {}
        t = threading.Thread(target=lambda: out.update(r=server.translate(body)))
        t.start()
        return t, out

    def test_full_queue_is_503(self):
        # The first request waits in the queue for its batch to fill (3 s): the queue is full.
        server = self.start('--queue-size', '1', '--batch-wait-ms', '3000')
        try:
            t, out = self.in_background(server, {'text': ['g q v d']})
            self.wait_queued(server, 1)
            status, j = server.translate({'text': ['b c d']})
            self.assertEqual(status, 503, j)
            t.join()
            self.assertEqual(out['r'][0], 200)
            self.assertEqual(out['r'][1]['translations'][0]['text'], nmt_translate('attention')[0])
        finally:
            self.assertEqual(server.stop(), 0)

    def test_sigterm_finishes_the_request_in_flight(self):
        server = self.start('--batch-wait-ms', '1500')
        try:
            t, out = self.in_background(server, {'text': ['g q v d', '', 'b v m k j v v']})
            self.wait_queued(server, 1)
            server.proc.send_signal(signal.SIGTERM)
            t.join()
            self.assertEqual(out['r'][0], 200)
            want = nmt_translate('attention')
            self.assertEqual([x['text'] for x in out['r'][1]['translations']], [want[0], '', want[1]])
            self.assertEqual(server.proc.wait(30), 0)
            self.assertIn('stopped', server.stderr())
            with self.assertRaises(OSError):
                socket.create_connection(('127.0.0.1', server.port), timeout=5)
        finally:
            server.kill()

    def test_int8_and_shortlist_as_translate(self):
        ref = os.path.join(SOURCE, 'tests/data/regression/reference.txt')
        lex = os.path.join(self.tmp.name, 'lex.txt')
        r = subprocess.run([NMT, 'shortlist', '-t', INPUT, ref, '-m', regression_model(SOURCE, 'attention'), '-o', lex,
                            '--first', '3', '--best', '3'], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        options = ['--gemm-type', 'int8', '--shortlist', lex, '--beam-size', '3']
        server = self.start(*options)
        try:
            status, j = server.translate({'text': read_lines(INPUT)})
            self.assertEqual(status, 200, j)
            self.assertEqual([t['text'] for t in j['translations']], nmt_translate('attention', *options))
            self.assertTrue(server.request('GET', '/v1/models')[1]['models'][0]['shortlist'])
        finally:
            self.assertEqual(server.stop(), 0)

    def test_usage_errors_exit_2(self):
        model = regression_model(SOURCE, 'attention')
        for args in ([], ['-m', model, model], ['-m', model, '--port', '70000'], ['-m', model, '--queue-size', '0'],
                     ['-m', model, '--beam-size', '0'], ['-m', '=x.bin']):
            r = subprocess.run([NMT, 'serve', *args], capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn('serve', r.stderr)


if __name__ == '__main__':
    unittest.main(argv=[sys.argv[0], *sys.argv[3:]])
