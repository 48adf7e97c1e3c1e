"""The report of scripts/compare: charts (matplotlib), report.md, results.json and results.tsv.

Kept apart from the driver so a report can be rewritten from results.json alone:
  /usr/bin/python3 scripts/compare_report.py OUT
"""
import gzip
import html
import json
import os
import subprocess
import sys


def check_plotting():
    try:
        import matplotlib  # noqa: F401
        import sentencepiece  # noqa: F401
    except ImportError as e:
        print(f'compare: {e}: install python3-matplotlib and python3-sentencepiece (scripts/install-deps does)',
              file=sys.stderr)
        sys.exit(1)


def open_text(path):
    return gzip.open(path, 'rt', encoding='utf-8') if path.endswith('.gz') else open(path, encoding='utf-8')


def encode_pieces(vocab_path, lines):
    """The source pieces nmt's encoder sees (SentencePiece's own encoding, the same library)."""
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_file=vocab_path)
    return [sp.encode(line, out_type=str) for line in lines]


def machine():
    # The model name alone may not tell the CPU ("AMD EPYC" is Zen 3 or Zen 5): family and model do.
    cpu = 'unknown CPU'
    fields = {}
    try:
        for line in open('/proc/cpuinfo'):
            key, _, value = line.partition(':')
            fields.setdefault(key.strip(), value.strip())
            if not line.strip():
                break
    except OSError:
        pass
    if 'model name' in fields:
        cpu = f"{fields['model name']} (family {fields.get('cpu family', '?')}, model {fields.get('model', '?')})"
    try:
        rev = subprocess.run(['git', '-C', os.path.dirname(os.path.abspath(__file__)), 'rev-parse', '--short',
                              'HEAD'], capture_output=True, text=True).stdout.strip()
    except OSError:
        rev = ''
    return {'cpu': cpu, 'cores': os.cpu_count(), 'memory_gib': round(os.sysconf('SC_PAGE_SIZE') *
                                                                      os.sysconf('SC_PHYS_PAGES') / 2**30),
            'nmt_commit': rev, 'onednn_max_cpu_isa': os.environ.get('ONEDNN_MAX_CPU_ISA')}


COLORS = {'bottleneck': '#d62728', 'attention': '#1f77b4', 'transformer': '#2ca02c'}


def plot_curves(out, results):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for m, r in results['models'].items():
        c = r.get('curve', [])
        if c:
            ax.plot([p['minutes'] for p in c], [p['perplexity'] for p in c], marker='o', ms=3, label=m,
                    color=COLORS.get(m))
    ax.set_xlabel('training time (minutes, validation included)')
    ax.set_ylabel('validation perplexity')
    ax.set_yscale('log')
    ax.grid(True, which='both', alpha=0.3)
    ax.legend()
    ax.set_title('Learning curves')
    fig.tight_layout()
    fig.savefig(os.path.join(out, 'learning_curves.png'), dpi=110)
    plt.close(fig)
    return 'learning_curves.png'


def buckets_by_label(r, mode):
    """A model's length buckets by their label ('6-10')."""
    return {f"{b['from']}-{b['to']}": b for b in r['test'][mode]['buckets']}


def plot_by_length(out, results, mode):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4))
    models = list(results['models'])
    labels = []
    for r in results['models'].values():
        for b in r['test'][mode]['buckets']:
            lab = f"{b['from']}-{b['to']}"
            if lab not in labels:
                labels.append(lab)
    width = 0.8 / max(1, len(models))
    for i, m in enumerate(models):
        bs = buckets_by_label(results['models'][m], mode)
        xs = [j + (i - (len(models) - 1) / 2) * width for j in range(len(labels))]
        ax.bar(xs, [bs[l]['bleu'] if l in bs else 0 for l in labels], width, label=m, color=COLORS.get(m))
    counts = {}
    for r in results['models'].values():
        for b in r['test'][mode]['buckets']:
            counts[f"{b['from']}-{b['to']}"] = b['sentences']
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels([f'{l}\n({counts.get(l, 0)})' for l in labels])
    ax.set_xlabel('source length in words (sentences)')
    ax.set_ylabel('BLEU')
    ax.set_title(f'Test BLEU by source length ({"beam " + str(results["beam_size"]) if mode == "beam" else mode})')
    ax.legend()
    ax.grid(True, axis='y', alpha=0.3)
    fig.tight_layout()
    name = f'bleu_by_length_{mode}.png'
    fig.savefig(os.path.join(out, name), dpi=110)
    plt.close(fig)
    return name


def length_rows(results, mode, min_sentences=20):
    """The source-length buckets with at least min_sentences test sentences (the tails of a corpus hold a
    handful, too few for a BLEU figure): [(label, sentences, {model: BLEU})]."""
    by_model = {m: buckets_by_label(r, mode) for m, r in results['models'].items()}
    first = next(iter(by_model.values()))
    return [(label, b['sentences'], {m: bs[label]['bleu'] for m, bs in by_model.items() if label in bs})
            for label, b in first.items() if b['sentences'] >= min_sentences]


def length_lesson(rows, short='bottleneck', long='attention'):
    """The comparison's lesson in one sentence: how each model's BLEU falls from the shortest to the longest
    bucket, and whether attention's lead over the bottleneck grows with the length. The lead is a ratio:
    when both models are weak, points shrink on long sentences for both, the ratio still shows who collapses.
    None when a model or a bucket is missing or a BLEU is zero."""
    if len(rows) < 2 or any(short not in r[2] or long not in r[2] for r in (rows[0], rows[-1])):
        return None
    (l0, _, b0), (l1, _, b1) = rows[0], rows[-1]
    if min(b0[short], b0[long], b1[short]) <= 0:
        return None
    kept = {m: 100 * b1[m] / b0[m] for m in (short, long)}
    lead0, lead1 = b0[long] / b0[short], b1[long] / b1[short]
    verdict = 'grows' if lead1 > lead0 else 'does not grow'
    return (f'From {l0} to {l1} source words the {short} model keeps {kept[short]:.0f}% of its BLEU '
            f'({b0[short]:.1f} to {b1[short]:.1f}) and the {long} model {kept[long]:.0f}% ({b0[long]:.1f} to '
            f'{b1[long]:.1f}): {long}\'s lead {verdict} with the length, from {lead0:.2f}x to {lead1:.2f}x '
            f'({b0[long] - b0[short]:+.1f} to {b1[long] - b1[short]:+.1f} points).')


def length_table(results, mode):
    rows = length_rows(results, mode)
    models = list(results['models'])
    md = ['| source words | sentences | ' + ' | '.join(models) + ' |', '|' + ' --- |' * (len(models) + 2)]
    for label, n, bleu in rows:
        md.append(f'| {label} | {n} | ' + ' | '.join(fmt(bleu.get(m)) for m in models) + ' |')
    lesson = length_lesson(rows)
    return md + ([''] + [lesson] if lesson else [])


def plot_heatmap(out, model, i, h):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    w = h['weights']
    src, trg = h['source_pieces'], h['target_pieces']
    rows, cols = len(w), max((len(r) for r in w), default=0)
    # Labels only when the counts match the matrix (they do unless the input was cut).
    if len(src) != cols:
        src = [str(j) for j in range(cols)]
    if len(trg) != rows:
        trg = [str(j) for j in range(rows)]
    fig, ax = plt.subplots(figsize=(0.32 * cols + 2, 0.32 * rows + 1.6))
    ax.imshow(w, cmap='Greys', vmin=0, vmax=1, aspect='auto')
    ax.set_xticks(range(cols))
    ax.set_xticklabels(src, rotation=90, fontsize=8)
    ax.set_yticks(range(rows))
    ax.set_yticklabels(trg, fontsize=8)
    ax.set_xlabel('source pieces')
    ax.set_ylabel('output pieces')
    ax.set_title(f'{model}: cross-attention, test sentence {i + 1}', fontsize=9)
    fig.tight_layout()
    name = f'attention_{model}_{i + 1}.png'
    fig.savefig(os.path.join(out, name), dpi=100)
    plt.close(fig)
    return name


def fmt(v, digits=2):
    if v is None:
        return 'n/a'
    if isinstance(v, int):
        return f'{v:,}'
    return f'{v:,.{digits}f}'


COLUMNS = [
    ('parameters', lambda r: r.get('parameters')),
    ('train tok/s (src+trg)', lambda r: round(r['tok_per_s']) if r.get('tok_per_s') else None),
    ('updates', lambda r: r.get('updates')),
    ('epochs', lambda r: r.get('epochs')),
    ('best val perplexity', lambda r: r.get('best_perplexity')),
    ('BLEU greedy', lambda r: r['test']['greedy']['bleu']),
    ('BLEU beam', lambda r: r['test']['beam']['bleu']),
    ('BLEU lc beam', lambda r: r['test']['beam']['bleu_lc']),
    ('chrF2 greedy', lambda r: r['test']['greedy']['chrf']),
    ('chrF2 beam', lambda r: r['test']['beam']['chrf']),
    ('greedy sent/s', lambda r: r['test']['greedy']['sentences_per_s']),
    ('beam sent/s', lambda r: r['test']['beam']['sentences_per_s']),
    ('peak train memory MiB', lambda r: r.get('peak_rss_mib')),
]


def write_tsv(out, results):
    lines = ['\t'.join(['model'] + [c for c, _ in COLUMNS])]
    for m, r in results['models'].items():
        lines.append('\t'.join([m] + ['' if f(r) is None else str(f(r)) for _, f in COLUMNS]))
    with open(os.path.join(out, 'results.tsv'), 'w') as f:
        f.write('\n'.join(lines) + '\n')


def unique_lines(text):
    seen, out = set(), []
    for line in text.splitlines():
        if line not in seen:
            seen.add(line)
            out.append(line)
    return out


def write_report(out, results, commands):
    with open(os.path.join(out, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    write_tsv(out, results)
    mach = results['machine']
    md = ['# Bottleneck vs attention vs transformer', '',
          f"{results['date']}; {mach['cpu']}, {mach['cores']} cores, {mach['memory_gib']} GiB; nmt "
          f"{mach.get('nmt_commit') or '(unknown commit)'}"
          f"{'; oneDNN capped at ' + mach['onednn_max_cpu_isa'] if mach.get('onednn_max_cpu_isa') else ''}. "
          f"Budget per model: `--after {results['budget']}`. "
          f"Test set: `{results['corpus']['test'][0]}`; BLEU and chrF2 as sacreBLEU (13a, cased); "
          f"\"BLEU lc\" lowercased with the intl tokenizer. Decoding speed is the wall time of `nmt translate` on the "
          f"test set, model loading included. Every figure is in results.json and results.tsv.", '',
          '| model | ' + ' | '.join(c for c, _ in COLUMNS) + ' |',
          '|' + ' --- |' * (len(COLUMNS) + 1)]
    for m, r in results['models'].items():
        cells = []
        for c, f in COLUMNS:
            v = f(r)
            cells.append(fmt(v, 1 if 'sent/s' in c else 2))
        md.append(f'| {m} | ' + ' | '.join(cells) + ' |')
    flagged = [(m, f) for m, r in results['models'].items() for f in r.get('flags', [])]
    if flagged:
        md += ['', '**Read with care**: a model still learning fast, or still warming up, is compared before it shows '
               'what its type can do; give it a larger budget (`--after`).', '']
        md += [f'- {m}: {f}' for m, f in flagged]
    md += ['', '## Learning curves', '', f'![validation perplexity over training time]({plot_curves(out, results)})',
           '', '## BLEU by source length', '',
           'The bottleneck model must squeeze the whole source into one state vector; attention reads every '
           'source state. The gap shows on long sentences. Test BLEU, beam search, in the buckets of at least '
           '20 sentences:', '']
    md += length_table(results, 'beam') + ['']
    for mode in ('greedy', 'beam'):
        md.append(f'![BLEU by source length, {mode}]({plot_by_length(out, results, mode)})')
        md.append('')
    hm = [(m, i, h) for m, r in results['models'].items() for i, h in enumerate(r.get('heatmaps', []))]
    if hm:
        md += ['## Attention', '',
               'Cross-attention weights of beam search (rows: output pieces; columns: source pieces). The '
               'bottleneck model has none. For the transformer: the last decoder layer, averaged over heads.', '']
        for m, i, h in hm:
            md.append(f'**{m}**, sentence {i + 1}: {html.escape(h["source"])}')
            md.append('')
            md.append(f'![{m} attention {i + 1}]({plot_heatmap(out, m, i, h)})')
            md.append('')
    md += ['## Commands', '', 'Run in this order (work files in `work/`):', '', '```bash']
    md += unique_lines(commands)
    md += ['```', '']
    with open(os.path.join(out, 'report.md'), 'w') as f:
        f.write('\n'.join(md))


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: compare_report.py OUT')
    d = sys.argv[1]
    write_report(d, json.load(open(os.path.join(d, 'results.json'))), open(os.path.join(d, 'commands.sh')).read())
