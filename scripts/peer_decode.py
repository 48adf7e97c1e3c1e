#!/usr/bin/env python3
"""Decoding speed of the PyTorch peer, measured like `nmt bench translate`.

Imports the peer's torch_nmt.py from its folder (nothing of it is copied or changed), builds
the named model with torch_nmt.build(), loads the state dict torch_nmt.py `run` saved as
$PEER_WORK/MODEL.pt, and times torch_nmt.translate() -- the peer's own batched greedy and beam
search, called exactly as its cmd_run does (bs=64, beam=5, alpha=0.6) -- on an input file.
The warm-up policy is nmt bench translate's: before each search, the first mini-batch of the
input (in file order) is translated once untimed; then the whole file is timed.

Prints one JSON line on stdout:
  {"model", "threads", "sentences", "source_pieces",
   "greedy": {"seconds", "sent_per_s", "tgt_tokens", "tgt_tok_per_s"}, "beam5": {...},
   "peak_rss_mib"}
Target tokens are torch_nmt.translate's count: hypothesis pieces + </s> (capped at its
max length). Run it with /usr/bin/python3 (Debian's torch) and the peer's runtime
environment (see scripts/bench-peer). Usage:
  peer_decode.py --model attention --input test_2016_flickr.en.gz [--threads 2]
                 [--peer-dir DIR] [--peer-work DIR] [--pt FILE] [--hyps PREFIX]
"""
import argparse
import gzip
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PEER_DIR = os.path.normpath(os.path.join(HERE, '..', '..', 'shared', 'peers', 'pytorch'))


def main():
    ap = argparse.ArgumentParser(description='Times the PyTorch peer\'s greedy and beam-5 decoding.')
    ap.add_argument('--model', required=True, choices=['bottleneck', 'attention', 'transformer'])
    ap.add_argument('--input', required=True, help='source sentences, plain or .gz')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--peer-dir', default=os.environ.get('PEER_DIR', DEFAULT_PEER_DIR),
                    help='folder holding torch_nmt.py')
    ap.add_argument('--peer-work', default=None,
                    help='the peer\'s work folder (spm8k.model, MODEL.pt); default $PEER_WORK')
    ap.add_argument('--pt', default=None, help='state dict (default PEER_WORK/MODEL.pt)')
    ap.add_argument('--mini-batch', type=int, default=64)
    ap.add_argument('--beam', type=int, default=5)
    ap.add_argument('--alpha', type=float, default=0.6)
    ap.add_argument('--seed', type=int, default=1234, help='only for build(); the weights are loaded')
    ap.add_argument('--hyps', default=None,
                    help='write the detokenised outputs to PREFIX.greedy and PREFIX.beam5')
    args = ap.parse_args()

    # torch_nmt reads PEER_WORK when it is imported.
    if args.peer_work:
        os.environ['PEER_WORK'] = args.peer_work
    if not os.path.exists(os.path.join(args.peer_dir, 'torch_nmt.py')):
        sys.exit(f'peer_decode.py: no torch_nmt.py in {args.peer_dir} (use --peer-dir)')
    sys.path.insert(0, args.peer_dir)
    import torch
    import sentencepiece as spm
    import torch_nmt as tn

    pt = args.pt or os.path.join(tn.WORK, f'{args.model}.pt')
    for p, what in ((tn.SPM_PATH, 'the peer\'s vocabulary'), (pt, 'the peer\'s trained model')):
        if not os.path.exists(p):
            sys.exit(f'peer_decode.py: {p} ({what}) does not exist')
    if not os.path.exists(args.input):
        sys.exit(f'peer_decode.py: input {args.input} does not exist')

    torch.set_num_threads(args.threads)
    sp = spm.SentencePieceProcessor(model_file=tn.SPM_PATH)
    V = sp.get_piece_size()
    model = tn.build(args.model, V, args.seed)
    model.load_state_dict(torch.load(pt, map_location='cpu'))
    model.eval()

    if args.input.endswith('.gz'):
        lines = tn.read_gz(args.input)
    else:
        with open(args.input, encoding='utf-8') as f:
            lines = [l.rstrip('\n') for l in f]
    ids = sp.encode(lines)  # as torch_nmt.Data does for the test set

    res = {'model': args.model, 'pt': pt, 'threads': torch.get_num_threads(),
           'torch': torch.__version__, 'sentences': len(ids),
           'source_pieces': sum(len(s) for s in ids), 'mini_batch': args.mini_batch}
    for key, mode in (('greedy', 'greedy'), ('beam5', 'beam')):
        tn.translate(model, ids[:args.mini_batch], mode, bs=args.mini_batch, beam=args.beam,
                     alpha=args.alpha)  # warm-up, untimed
        hyps, secs, ntok = tn.translate(model, ids, mode, bs=args.mini_batch, beam=args.beam,
                                        alpha=args.alpha)
        res[key] = {'seconds': secs, 'sent_per_s': len(ids) / secs, 'tgt_tokens': ntok,
                    'tgt_tok_per_s': ntok / secs}
        print(f'peer {args.model} {key}: {secs:.2f} s, {len(ids) / secs:.1f} sent/s, '
              f'{ntok / secs:.0f} tgt tok/s', file=sys.stderr, flush=True)
        if args.hyps:
            with open(f'{args.hyps}.{key}', 'w', encoding='utf-8') as f:
                f.write('\n'.join(sp.decode(hyps)) + '\n')
    res['peak_rss_mib'] = tn.peak_rss_mib()
    print(json.dumps(res), flush=True)


if __name__ == '__main__':
    main()
