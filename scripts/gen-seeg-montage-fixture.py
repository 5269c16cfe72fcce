#!/usr/bin/env python3
"""Expected bipolar pairs and electrode positions for the real SEEG / ECoG recordings.

Writes test/fixtures/ieeg/montage.json. Reference: MNE-Python (Debian python3-mne)
reads the channel names from the EDF files and the coordinates from the electrodes.tsv
files (mne.channels.read_custom_montage, which keeps the file's numbers; the SEEG file
is in millimetres, so its values are scaled by 1e-3 here, as MNE's own sEEG tutorial does,
and the ECoG file is in metres).

The pairs come from this script's own simple rule, written independently of
src/dsp/montage.ts:
  * a contact name is letters with an optional prime followed by a number (L'1, C12, BTM3);
  * EKG*/ECG*/DC* are not contacts;
  * contacts are grouped by the letters (shaft / strip / grid), groups in order of first
    appearance, sorted by number; a pair is (n, n+1) when both numbers are present;
  * where every contact of a group has coordinates and the group has >= 3 such pairs, a pair
    longer than twice the group's median pair length is not a pair (ECoG grid row ends);
  * label "<a>-<b>".
The "gap" case drops some contacts from the SEEG list and applies the same rule.

Run: python3 scripts/gen-seeg-montage-fixture.py   (from the repository root)
"""
import json
import math
import os
import re

import mne

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, 'test', 'data', 'ieeg')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'ieeg', 'montage.json')

CONTACT = re.compile(r"^([A-Za-z]+'?)(\d+)$")
NOT_NEURAL = ('EKG', 'ECG', 'DC')


def positions(tsv, scale):
    m = mne.channels.read_custom_montage(tsv)
    return {k: [float(v) * scale for v in xyz] for k, xyz in m.get_positions()['ch_pos'].items()}


def pairs(names, pos=None):
    groups = {}
    for n in names:
        m = CONTACT.match(n)
        if not m or m.group(1).upper().startswith(NOT_NEURAL):
            continue
        groups.setdefault(m.group(1), []).append((int(m.group(2)), n))
    out = []
    for shaft, contacts in groups.items():
        contacts.sort()
        ps = [(a, b) for (i, a), (j, b) in zip(contacts, contacts[1:]) if j == i + 1]
        if pos is not None and len(ps) >= 3 and all(n in pos for _, n in contacts):
            d = [math.dist(pos[a], pos[b]) for a, b in ps]
            med = sorted(d)[len(d) // 2]
            ps = [p for p, dd in zip(ps, d) if not dd > 2 * med]
        out += [f'{a}-{b}' for a, b in ps]
    return out


def main():
    seeg = mne.io.read_raw_edf(os.path.join(DATA, 'seeg', 'sample_seeg.edf'), verbose=False)
    ecog = mne.io.read_raw_edf(os.path.join(DATA, 'ecog', 'sample_ecog.edf'), verbose=False)
    seeg_pos = positions(os.path.join(DATA, 'seeg', 'sample_seeg_electrodes.tsv'), 1e-3)
    ecog_pos = positions(os.path.join(DATA, 'ecog', 'sample_ecog_electrodes.tsv'), 1.0)
    dropped = ["L'5", "F'9", "X'16", "N'1"]
    gap_names = [n for n in seeg.ch_names if n not in dropped]
    fx = {
        'source': 'MNE-Python %s reading test/data/ieeg; pairs by scripts/gen-seeg-montage-fixture.py' % mne.__version__,
        'seeg': {
            'channels': seeg.ch_names,
            'sfreq': seeg.info['sfreq'],
            'bipolar': pairs(seeg.ch_names),
            'dropped': dropped,
            'bipolarWithGaps': pairs(gap_names),
            'positionsMetres': seeg_pos,
        },
        'ecog': {
            'channels': ecog.ch_names,
            'sfreq': ecog.info['sfreq'],
            'bipolar': pairs(ecog.ch_names, ecog_pos),
            'positionsMetres': ecog_pos,
        },
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(fx, f, indent=1)
    print('wrote', OUT, len(fx['seeg']['bipolar']), 'SEEG pairs,', len(fx['ecog']['bipolar']), 'ECoG pairs')


if __name__ == '__main__':
    main()
