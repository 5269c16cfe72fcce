#!/usr/bin/python3
"""Reference values for the EDF/BDF reader tests, from MNE-Python.

Run with Debian's python3-mne (apt-get install -y python3-mne):

    /usr/bin/python3 scripts/gen-edf-fixtures.py

Writes test/formats/fixtures/edf-mne.json: for every file in test/data/edf and
test/data/eegmmidb, the channel names, rates, sample counts, annotations and
a few sample values (in the file's own physical units) as MNE reads them, plus the
BDF Status events from mne.find_events. The reader test compares against it.
"""
import json
import os
import sys

import mne
import numpy as np

mne.set_log_level("ERROR")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "test", "data")
OUT = os.path.join(ROOT, "test", "formats", "fixtures", "edf-mne.json")

FILES = [
    "edf/test_generator_2.edf",
    "edf/test_utf8_annotations.edf",
    "edf/test_edf_stim_channel.edf",
    "edf/test_bdf_stim_channel.bdf",
    "edf/test.bdf",
    "edf/test_uneven_samp.edf",
    "edf/MB0400FU.EDF",
    "eegmmidb/S001R03.edf",
    "eegmmidb/S001R04.edf",
    "eegmmidb/S001R05.edf",
    "eegmmidb/S001R06.edf",
]


def main():
    out = {"generator": f"MNE-Python {mne.__version__}", "files": {}}
    rng = np.random.default_rng(1234)
    for rel in FILES:
        path = os.path.join(DATA, rel)
        if rel.lower().endswith(".bdf"):
            raw = mne.io.read_raw_bdf(path, preload=True)
        else:
            raw = mne.io.read_raw_edf(path, preload=True)
        extras = raw._raw_extras[0]
        units = np.asarray(extras["units"], dtype=float)
        n_samps = np.asarray(extras["n_samps"])
        n = raw.n_times
        idx = sorted(set(int(i) for i in [0, 1, 2, n // 3, n // 2, n - 1, *rng.integers(0, n, 8)]))
        data = raw.get_data()
        samples = {}
        for ci, name in enumerate(raw.ch_names):
            # Only channels at the file's top rate: MNE resamples the others.
            if n_samps[ci] != n_samps.max():
                continue
            samples[name] = [float(data[ci, i] / units[ci]) for i in idx]
        entry = {
            "ch_names": raw.ch_names,
            "sfreq": float(raw.info["sfreq"]),
            "n_times": int(n),
            "sample_index": idx,
            "samples": samples,
            "annotations": [
                {"onset": float(a["onset"]), "duration": float(a["duration"]), "text": a["description"]}
                for a in raw.annotations
            ],
        }
        if "Status" in raw.ch_names:
            ev = mne.find_events(raw, stim_channel="Status", shortest_event=1, consecutive=True)
            entry["status_events"] = [[int(s), int(v)] for s, _, v in ev]
        out["files"][rel] = entry
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
    sys.stdout.write(f"wrote {OUT}\n")


if __name__ == "__main__":
    main()
