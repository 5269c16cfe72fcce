#!/usr/bin/python3
"""Known-answer fixtures for src/dsp (scipy.signal) and src/eval (scipy.stats).

Run with Debian's python3-scipy (scipy 1.10):

    /usr/bin/python3 scripts/gen-scipy-fixtures.py

Writes test/fixtures/scipy/*.json. Inputs are generated here from a fixed seed and stored in
the fixtures, so the TypeScript tests need no Python. Floats are written with repr (shortest
round-trip), i.e. exactly.
"""
import json
import os

import numpy as np
import scipy
from scipy import signal

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'scipy')
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(20240611)
meta = {'scipy': scipy.__version__, 'numpy': np.__version__, 'generator': 'scripts/gen-scipy-fixtures.py'}


def lst(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def dump(name, obj):
    obj = {'meta': meta, **obj}
    with open(os.path.join(OUT, name), 'w') as f:
        json.dump(obj, f, separators=(',', ':'))
    print(name, os.path.getsize(os.path.join(OUT, name)), 'bytes')


def test_signal(n, fs):
    t = np.arange(n) / fs
    x = (rng.standard_normal(n) + 3.0 * np.sin(2 * np.pi * 10 * t) + 1.5 * np.sin(2 * np.pi * 50 * t)
         + 0.7 * np.sin(2 * np.pi * 0.3 * t) + 20.0)  # DC offset exercises steady-state init
    return x


# ---------------------------------------------------------------- butter designs + sosfilt
butter_cases = [
    (1, 10.0, 'lowpass', 250.0), (2, 30.0, 'lowpass', 250.0), (4, 40.0, 'lowpass', 160.0),
    (5, 100.0, 'lowpass', 1000.0), (8, 300.0, 'lowpass', 2048.0), (3, 0.5, 'highpass', 250.0),
    (4, 1.0, 'highpass', 2048.0), (7, 20.0, 'highpass', 500.0),
    (1, [8.0, 13.0], 'bandpass', 160.0), (2, [8.0, 30.0], 'bandpass', 160.0),
    (3, [1.0, 40.0], 'bandpass', 250.0), (4, [0.5, 500.0], 'bandpass', 2048.0),
    (4, [80.0, 250.0], 'bandpass', 2048.0), (6, [250.0, 500.0], 'bandpass', 2048.0),
    (2, [48.0, 52.0], 'bandstop', 500.0), (4, [45.0, 55.0], 'bandstop', 1000.0), (5, [58.0, 62.0], 'bandstop', 2048.0),
]
designs = []
for N, Wn, btype, fs in butter_cases:
    sos = signal.butter(N, Wn, btype, output='sos', fs=fs)
    designs.append({'order': N, 'cutoff': Wn, 'btype': btype, 'fs': fs, 'sos': [lst(r) for r in sos]})

x = test_signal(1500, 250.0)
filt_cases = []
for N, Wn, btype, fs in [(4, [1.0, 40.0], 'bandpass', 250.0), (2, 0.5, 'highpass', 250.0), (6, 30.0, 'lowpass', 250.0),
                         (3, [48.0, 52.0], 'bandstop', 250.0), (4, [8.0, 13.0], 'bandpass', 250.0)]:
    sos = signal.butter(N, Wn, btype, output='sos', fs=fs)
    y0 = signal.sosfilt(sos, x)
    ys = signal.sosfilt(sos, x, zi=signal.sosfilt_zi(sos) * x[0])[0]
    x32 = x.astype(np.float32).astype(np.float64)
    y32 = signal.sosfilt(sos, x32)
    yff = signal.sosfiltfilt(sos, x)
    filt_cases.append({'order': N, 'cutoff': Wn, 'btype': btype, 'fs': fs, 'sos': [lst(r) for r in sos],
                       'zi': [lst(r) for r in signal.sosfilt_zi(sos)],
                       'y_zero': lst(y0), 'y_steady': lst(ys), 'y_from_f32_input': lst(y32), 'y_filtfilt': lst(yff)})
dump('butter.json', {'designs': designs, 'x': lst(x), 'filters': filt_cases})

# ---------------------------------------------------------------- iirnotch (+ harmonics cascade)
notch_cases = []
for f0, Q, fs in [(50.0, 30.0, 1000.0), (60.0, 35.0, 2048.0), (50.0, 10.0, 250.0), (60.0, 30.0, 160.0), (250.0, 30.0, 1000.0)]:
    b, a = signal.iirnotch(f0, Q, fs)
    notch_cases.append({'f0': f0, 'Q': Q, 'fs': fs, 'b': lst(b), 'a': lst(a)})
fsn = 1000.0
xn = test_signal(4000, fsn)
harm = [f for f in np.arange(50.0, fsn / 2, 50.0)]
sos_h = np.vstack([np.hstack(signal.iirnotch(f, 30.0, fsn)) for f in harm])
yn = signal.sosfilt(sos_h, xn)
dump('notch.json', {'cases': notch_cases, 'harmonics': {'freq': 50.0, 'Q': 30.0, 'fs': fsn, 'freqs': lst(harm),
                    'sos': [lst(r) for r in sos_h], 'x': lst(xn), 'y': lst(yn)}})

# ---------------------------------------------------------------- resample_poly
xr = test_signal(1500, 1000.0)
res_cases = []
for up, down in [(1, 2), (2, 3), (3, 2), (25, 16), (1, 4), (5, 1)]:
    y = signal.resample_poly(xr, up, down)
    max_rate = max(up, down)
    h = signal.firwin(2 * 10 * max_rate + 1, 1.0 / max_rate, window=('kaiser', 5.0))
    res_cases.append({'up': up, 'down': down, 'y': lst(y), 'h': lst(h)})
# The anti-alias design used by default: kaiserord(70 dB, transition 0.8..1.0 of the new Nyquist)
aa = []
for up, down in [(1, 2), (2, 3), (25, 16)]:
    max_rate = max(up, down)
    stop = 1.0 / max_rate
    pas = 0.8 * stop
    numtaps, beta = signal.kaiserord(70.0, stop - pas)
    if numtaps % 2 == 0:
        numtaps += 1
    h = signal.firwin(numtaps, (pas + stop) / 2, window=('kaiser', beta))
    y = signal.resample_poly(xr, up, down, window=h)
    aa.append({'up': up, 'down': down, 'numtaps': int(numtaps), 'beta': float(beta), 'h': lst(h), 'y': lst(y)})
dump('resample.json', {'x': lst(xr), 'cases': res_cases, 'antialias': aa,
                       'kaiser': {'M': 41, 'beta': 5.0, 'w': lst(signal.windows.kaiser(41, 5.0))}})

# ---------------------------------------------------------------- welch + dpss
xw = test_signal(4096, 1000.0)
welch_cases = []
for fs, nperseg, noverlap, nfft, n in [(1000.0, 256, None, None, 4096), (160.0, 160, None, None, 4096),
                                        (1000.0, 200, 150, 512, 4096), (2048.0, 1000, None, None, 3001)]:
    f, p = signal.welch(xw[:n], fs=fs, nperseg=nperseg, noverlap=noverlap, nfft=nfft)
    welch_cases.append({'fs': fs, 'nperseg': nperseg, 'noverlap': noverlap, 'nfft': nfft, 'n': n, 'f': lst(f), 'pxx': lst(p)})
dpss_cases = []
for M, NW, K in [(256, 3.0, 5), (160, 2.0, 3), (1001, 4.0, 7), (2048, 3.0, 5)]:
    w = signal.windows.dpss(M, NW, K)
    dpss_cases.append({'M': M, 'NW': NW, 'K': K, 'tapers': [lst(r) for r in w]})
dump('spectral.json', {'x': lst(xw), 'welch': welch_cases, 'dpss': dpss_cases})

# ---------------------------------------------------------------- exact McNemar (binomial test, p = 1/2)
from scipy import stats
mc_cases = []
for b, c in [(3, 9), (12, 5), (40, 61), (100, 100), (1, 0), (7, 30), (150, 190), (0, 12)]:
    mc_cases.append({'b': b, 'c': c, 'p': float(stats.binomtest(min(b, c), b + c, 0.5).pvalue)})
dump('stats.json', {'mcnemar': mc_cases})
