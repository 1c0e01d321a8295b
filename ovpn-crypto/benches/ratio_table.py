#!/usr/bin/env python3
"""Prints the data_channel bench results as a Markdown table of throughput ratios to the raw
ring AES-256-GCM seal of the same bytes, measured in the same run.

Run after `cargo bench -p ovpn-crypto --bench data_channel`:
    python3 ovpn-crypto/benches/ratio_table.py [target/criterion]
"""
import json
import os
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), '..', '..', 'target', 'criterion')
SIZES = [64, 512, 1400]

times = {}  # full_id -> mean ns
for dirpath, _, files in os.walk(root):
    if os.path.basename(dirpath) == 'new' and 'benchmark.json' in files:
        bench = json.load(open(os.path.join(dirpath, 'benchmark.json')))
        est = json.load(open(os.path.join(dirpath, 'estimates.json')))
        times[bench['full_id']] = est['mean']['point_estimate']

ceiling = {s: times.get(f'ceiling_ring_aes256gcm/seal/{s}') for s in SIZES}
if not all(ceiling.values()):
    sys.exit('no ceiling results under ' + root)


def gbps(size, ns):
    return size / ns  # bytes per ns = GB/s


suites = sorted({k.split('/')[0][len('suite_'):] for k in times if k.startswith('suite_')})
head = '| suite | ' + ' | '.join(f'{op} {s} B' for op in ('seal', 'open') for s in SIZES) + ' |'
print(head)
print('|' + '---|' * (1 + 2 * len(SIZES)))
row = ['raw ring AES-256-GCM seal (ceiling)']
for op in ('seal', 'open'):
    for s in SIZES:
        t = times.get(f'ceiling_ring_aes256gcm/{op}/{s}')
        row.append(f'{gbps(s, t):.2f} GB/s' + ('' if op == 'seal' else f' ({ceiling[s] / t:.2f})'))
print('| ' + ' | '.join(row) + ' |')
for suite in suites:
    row = [suite]
    for op in ('seal', 'open'):
        for s in SIZES:
            t = times.get(f'suite_{suite}/{op}/{s}')
            row.append('-' if t is None else f'{ceiling[s] / t:.2f}')
    print('| ' + ' | '.join(row) + ' |')

s = 1400
seal = times.get('suite_AES-256-GCM/seal/1400')
open_ = times.get('suite_AES-256-GCM/open/1400')
if seal and open_:
    print()
    print(f'AES-256-GCM 1400 B: seal {ceiling[s] / seal:.1%} and open {ceiling[s] / open_:.1%} '
          f'of the ring seal ceiling; seal+open {2 * ceiling[s] / (seal + open_):.1%} of two ring '
          f'seals; open vs raw ring open '
          f'{times["ceiling_ring_aes256gcm/open/1400"] / open_:.1%}.')
