"""What the tests of scripts/bench-peer and scripts/bench-peer-lm share: small generated corpora
and a stand-in for the peer's Python."""
import gzip
import os
import random


def write_gz(path, lines):
    with gzip.open(path, 'wt', encoding='utf-8') as f:
        f.write(''.join(l + '\n' for l in lines))


def random_sentences(seed, words, count, shortest, longest):
    """`count` lines of `shortest` to `longest` words drawn from `words`, the same for a seed."""
    rng = random.Random(seed)
    return [' '.join(rng.choice(words) for _ in range(rng.randint(shortest, longest))) for _ in range(count)]


def install_fake_peer(folder, script_name, python_text):
    """A peer folder holding an empty SCRIPT_NAME and an executable stand-in for its Python:
    returns the environment that points the scripts at them (with NMT left to the caller)."""
    peer_dir = os.path.join(folder, 'peer')
    os.makedirs(peer_dir)
    open(os.path.join(peer_dir, script_name), 'w').close()
    python = os.path.join(folder, 'fake-python')
    with open(python, 'w') as f:
        f.write(python_text)
    os.chmod(python, 0o755)
    return {'PEER_DIR': peer_dir, 'PEER_PYTHON': python}
