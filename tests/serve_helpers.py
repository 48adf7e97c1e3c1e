"""Starting `nmt serve` on a free loopback port and talking to it, for tests/serve_*_test.py."""
import http.client
import json
import os
import subprocess
import time

REGRESSION = 'tests/data/regression'


def regression_model(source, name):
    return os.path.join(source, REGRESSION, name + '.bin')


class Server:
    """`nmt serve ARGS --port 0` on 127.0.0.1; the port is read from its stderr."""

    def __init__(self, nmt, args, log_path):
        self.log_path = log_path
        self.log = open(log_path, 'w+')
        self.proc = subprocess.Popen([nmt, 'serve', '--host', '127.0.0.1', '--port', '0', *args],
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        self.port = None
        deadline = time.time() + 60
        while self.port is None:
            text = self.stderr()
            if 'listening on http://127.0.0.1:' in text:
                self.port = int(text.split('listening on http://127.0.0.1:')[1].split('/')[0])
            elif self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError('nmt serve did not start:\n' + text)
            else:
                time.sleep(0.05)

    def stderr(self):
        with open(self.log_path) as f:
            return f.read()

    def request(self, method, path, body=None, headers=None, timeout=60):
        """(status, parsed JSON or text) of one request on a new connection."""
        c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=timeout)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read().decode('utf-8')
            is_json = r.getheader('Content-Type', '').startswith('application/json')
            return r.status, (json.loads(data) if is_json else data)
        finally:
            c.close()

    def translate(self, body):
        return self.request('POST', '/v1/translate', body)

    def stop(self, timeout=30):
        """SIGTERM; the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        finally:
            self.log.close()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
