#!/usr/bin/python3
"""Known answers for the classical decoders (test/fixtures/decoders/*.json).

References outside the project: MNE (EDF reading, mne.decoding.CSP), scikit-learn
(LedoitWolf / OAS, LinearDiscriminantAnalysis, LogisticRegression, CCA,
balanced_accuracy_score), scipy (butter / sosfilt / eigh). pyRiemann is not packaged
in Debian, so its steps are written here from the published formulas, a few lines
each: Karcher mean by the fixed-point iteration of pyRiemann's mean_riemann, tangent
space with sqrt(2) off-diagonal weights, MDM, Xdawn / XdawnCovariances; TRCA after
Nakanishi et al. 2018; FBCCA after Chen et al. 2015.

Needs Debian's python3-mne python3-sklearn python3-scipy python3-numpy.
Run from the repository root:  /usr/bin/python3 scripts/gen-decoder-fixtures.py
"""
import json
import os

import mne
import numpy as np
from scipy import linalg, signal
from sklearn.cross_decomposition import CCA
from sklearn.covariance import ledoit_wolf, oas, empirical_covariance
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score

OUT = 'test/fixtures/decoders'
DATA = 'test/data/eegmmidb'
os.makedirs(OUT, exist_ok=True)
mne.set_log_level('ERROR')

# ------------------------------------------------------------------ shared steps
TMIN, TLEN = 0.5, 3.0          # epoch: cue + 0.5 s, 3 s long
PREFILTER = (1.0, 40.0)        # continuous causal band-pass before epoching
MI_BAND = (8.0, 30.0)
FBCSP_BANDS = [(4.0 + 4 * i, 8.0 + 4 * i) for i in range(9)]
LABELS = {3: ('left', 'right'), 4: ('left', 'right'), 5: ('fists', 'feet'), 6: ('fists', 'feet')}


def sosfilt_steady(sos, x):
    """Causal filter of each row, state started at steady state for the row's first sample."""
    zi = signal.sosfilt_zi(sos)
    return np.stack([signal.sosfilt(sos, r, zi=zi * r[0])[0] for r in x])


def band_sos(band, fs, order=4):
    return signal.butter(order, band, btype='bandpass', fs=fs, output='sos')


def lda():
    return LinearDiscriminantAnalysis(solver='lsqr', shrinkage='auto')


def logreg(solver='lbfgs'):
    # LogisticRegression(C=1.0) with a tight gradient tolerance. lbfgs still stops on
    # scipy's relative function tolerance (coefficients ~1e-5 relative from the optimum);
    # the small multinomial known answer uses newton-cg, which reaches the optimum.
    return LogisticRegression(C=1.0, solver=solver, tol=1e-10 if solver == 'lbfgs' else 1e-12, max_iter=100000)


def powm(C, f):
    w, V = linalg.eigh(C)
    return (V * f(w)) @ V.T


def sqrtm(C): return powm(C, np.sqrt)
def invsqrtm(C): return powm(C, lambda w: 1 / np.sqrt(w))
def logm(C): return powm(C, np.log)
def expm(C): return powm(C, np.exp)


def mean_riemann(covs, tol=1e-8, maxiter=50):
    """Karcher mean, fixed-point iteration with pyRiemann's step-size rule."""
    C = np.mean(covs, axis=0)
    nu, tau, crit = 1.0, np.finfo(np.float64).max, np.finfo(np.float64).max
    it = 0
    for it in range(1, maxiter + 1):
        C12, Cm12 = sqrtm(C), invsqrtm(C)
        J = np.mean([logm(Cm12 @ P @ Cm12) for P in covs], axis=0)
        C = C12 @ expm(nu * J) @ C12
        crit = np.linalg.norm(J, ord='fro')
        h = nu * crit
        if h < tau:
            nu, tau = 0.95 * nu, h
        else:
            nu = 0.5 * nu
        if crit <= tol or nu <= tol:
            break
    return C, it


def upper(T):
    n = T.shape[0]
    coeffs = (np.sqrt(2) * np.triu(np.ones((n, n)), 1) + np.eye(n))[np.triu_indices(n)]
    return T[np.triu_indices(n)] * coeffs


def tangent_space(covs, ref):
    W = invsqrtm(ref)
    return np.array([upper(logm(W @ P @ W)) for P in covs])


def distance(A, B):
    return np.sqrt(np.sum(np.log(linalg.eigvalsh(B, A)) ** 2))


def lw(x): return ledoit_wolf(x.T)[0]
def oas_(x): return oas(x.T)[0]


def r(a, nd=None):
    a = np.asarray(a, dtype=float)
    return (np.round(a, nd) if nd is not None else a).tolist()


# ------------------------------------------------------------------ EEGMMIDB epochs
def load_run(run):
    raw = mne.io.read_raw_edf(f'{DATA}/S001R{run:02d}.edf', preload=True)
    fs = raw.info['sfreq']
    x = raw.get_data() * 1e6  # µV, as the EDF header's physical unit
    pre = band_sos(PREFILTER, fs)
    xf = sosfilt_steady(pre, x)
    s0, L = int(round(TMIN * fs)), int(round(TLEN * fs))
    onsets, labels, epochs, raw_sums = [], [], [], []
    t1, t2 = LABELS[run]
    for a in raw.annotations:
        if a['description'] not in ('T1', 'T2'):
            continue
        o = int(round(a['onset'] * fs))
        if o + s0 + L > x.shape[1]:
            continue
        onsets.append(o)
        labels.append(t1 if a['description'] == 'T1' else t2)
        epochs.append(xf[:, o + s0:o + s0 + L])
        raw_sums.append(float(x[:, o + s0:o + s0 + L].sum()))
    return dict(fs=fs, ch=raw.ch_names, onsets=onsets, y=np.array(labels), X=np.array(epochs), raw_sums=raw_sums, pre=pre)


runs = {k: load_run(k) for k in (3, 4, 5, 6)}
fs = runs[3]['fs']


def folds(y, k=5):
    """i-th trial of each class (time order) → fold i mod k."""
    f = np.zeros(len(y), dtype=int)
    for c in np.unique(y):
        idx = np.where(y == c)[0]
        f[idx] = np.arange(len(idx)) % k
    return f


def splits():
    out = []
    for tr, te in ((3, 4), (5, 6)):
        out.append(dict(name=f'R{tr:02d}->R{te:02d}', evaluation=f'train R{tr:02d} -> test R{te:02d}', train_run=tr, test_run=te,
                        train=list(range(len(runs[tr]['y']))), test=list(range(len(runs[te]['y'])))))
    for run in (3, 4, 5, 6):
        f = folds(runs[run]['y'])
        for k in range(5):
            out.append(dict(name=f'R{run:02d} CV fold {k + 1}/5', evaluation=f'R{run:02d} 5-fold CV', train_run=run, test_run=run,
                            train=np.where(f != k)[0].tolist(), test=np.where(f == k)[0].tolist()))
    return out


SPLITS = splits()


def my_csp(X, y, classes):
    """Two-class CSP the way MNE computes it (concat, uncentred X Xᵀ/(n−1), eigh(A, A+B), |λ−½| order)."""
    covs = []
    for c in classes:
        xc = np.concatenate(list(X[y == c]), axis=1)
        covs.append(xc @ xc.T / (xc.shape[1] - 1))
    w, V = linalg.eigh(covs[0], covs[0] + covs[1])
    ix = np.argsort(np.abs(w - 0.5))[::-1]
    return V[:, ix].T


def csp_pipeline(bands):
    def fit_predict(Xtr, ytr, Xte):
        ftr, fte = [], []
        for b in bands:
            sos = band_sos(b, fs)
            Btr = np.array([sosfilt_steady(sos, e) for e in Xtr])
            Bte = np.array([sosfilt_steady(sos, e) for e in Xte])
            csp = mne.decoding.CSP(n_components=4, log=True, norm_trace=False)
            csp.fit(Btr, ytr)
            ftr.append(csp.transform(Btr))
            fte.append(csp.transform(Bte))
        clf = lda().fit(np.hstack(ftr), ytr)
        return clf.predict(np.hstack(fte))
    return fit_predict


def covs_of(X, band=MI_BAND, est=lw):
    sos = band_sos(band, fs)
    return np.array([est(sosfilt_steady(sos, e)) for e in X])


def ts_lr(Xtr, ytr, Xte):
    Ctr, Cte = covs_of(Xtr), covs_of(Xte)
    ref, _ = mean_riemann(Ctr)
    clf = logreg().fit(tangent_space(Ctr, ref), ytr)
    return clf.predict(tangent_space(Cte, ref))


def mdm(Xtr, ytr, Xte):
    Ctr, Cte = covs_of(Xtr), covs_of(Xte)
    classes = np.unique(ytr)
    means = [mean_riemann(Ctr[ytr == c])[0] for c in classes]
    d = np.array([[distance(M, S) for M in means] for S in Cte])
    return classes[np.argmin(d, axis=1)]


MI_PIPELINES = {'csp': csp_pipeline([MI_BAND]), 'fbcsp': csp_pipeline(FBCSP_BANDS), 'ts-lr': ts_lr, 'mdm': mdm}


def run_parity(pipelines, data_of, split_list):
    """Per evaluation (a train/test split, or all folds of one CV pooled): test-trial predictions and balanced accuracy."""
    res = {}
    evals = list(dict.fromkeys(s['evaluation'] for s in split_list))
    for name, fp in pipelines.items():
        rows = []
        for ev in evals:
            preds, truth = [], []
            for s in split_list:
                if s['evaluation'] != ev:
                    continue
                Xtr, ytr = data_of(s, 'train')
                Xte, yte = data_of(s, 'test')
                preds += [str(p) for p in fp(Xtr, ytr, Xte)]
                truth += list(yte)
            rows.append(dict(evaluation=ev, predictions=preds, balanced_accuracy=float(balanced_accuracy_score(truth, preds))))
        res[name] = rows
        print(name, ' '.join(f"{row['balanced_accuracy']:.3f}" for row in rows))
    return res


def mi_data(s, part):
    run = runs[s['train_run' if part == 'train' else 'test_run']]
    idx = s[part]
    return run['X'][idx], run['y'][idx]


mi_results = run_parity(MI_PIPELINES, mi_data, SPLITS)

# CSP filters and features (R03 → R04), MNE against the direct formulas
R3, R4 = runs[3], runs[4]
sosb = band_sos(MI_BAND, fs)
B3 = np.array([sosfilt_steady(sosb, e) for e in R3['X']])
B4 = np.array([sosfilt_steady(sosb, e) for e in R4['X']])
csp = mne.decoding.CSP(n_components=4, log=True, norm_trace=False).fit(B3, R3['y'])
mine = my_csp(B3, R3['y'], np.unique(R3['y']))
cos = np.abs(np.sum(csp.filters_[:4] * mine[:4], axis=1) /
             (np.linalg.norm(csp.filters_[:4], axis=1) * np.linalg.norm(mine[:4], axis=1)))
assert np.all(cos > 1 - 1e-8), f'MNE CSP differs from the direct formula: {cos}'
for c in np.unique(R3['y']):
    xc = np.concatenate(list(B3[R3['y'] == c]), axis=1)
    assert np.allclose(csp._concat_cov(B3[R3['y'] == c])[0], xc @ xc.T / (xc.shape[1] - 1), rtol=1e-10)

# tangent-space LR coefficients on R03
C3 = covs_of(R3['X'])
ref3, it3 = mean_riemann(C3)
T3 = tangent_space(C3, ref3)
lr3 = logreg().fit(T3, R3['y'])

eegmmidb = dict(
    source='EEGMMIDB S001 runs 3-6 (PhysioNet), read with MNE ' + mne.__version__,
    epoch=dict(tmin=TMIN, length=TLEN, srate=fs, prefilter=list(PREFILTER), band=list(MI_BAND),
               fbcsp_bands=[list(b) for b in FBCSP_BANDS], order=4),
    sos=dict(prefilter=r(R3['pre']), band=r(sosb), fbcsp=[r(band_sos(b, fs)) for b in FBCSP_BANDS]),
    channels=R3['ch'],
    runs={str(k): dict(onsets=v['onsets'], labels=v['y'].tolist(), raw_sums=v['raw_sums'],
                       filtered_first=r(v['X'][0][:3, :5]), filtered_sums=r(v['X'].sum(axis=(1, 2))))
          for k, v in runs.items()},
    splits=SPLITS,
    csp=dict(train_run=3, test_run=4, filters=r(csp.filters_[:4]),
             features_test=r(csp.transform(B4)), features_train=r(csp.transform(B3))),
    tangent=dict(train_run=3, reference=r(ref3), iterations=it3, vectors_first3=r(T3[:3]),
                 lr_coef=r(lr3.coef_[0]), lr_intercept=float(lr3.intercept_[0]), lr_classes=lr3.classes_.tolist()),
    results=mi_results,
)
with open(f'{OUT}/eegmmidb.json', 'w') as f:
    json.dump(eegmmidb, f)

# ------------------------------------------------------------------ Riemannian steps on real covariances
PICK = ['C3..', 'Cz..', 'C4..', 'Fc3.', 'Fc4.', 'Cp3.', 'Cp4.', 'Fz..']
pk = [R3['ch'].index(c) for c in PICK]
E3 = np.array([sosfilt_steady(sosb, e[pk]) for e in R3['X']])
E4 = np.array([sosfilt_steady(sosb, e[pk]) for e in R4['X']])
covs3 = np.array([lw(e) for e in E3])
covs4 = np.array([lw(e) for e in E4])
M3, itM = mean_riemann(covs3)
M4, _ = mean_riemann(covs4)
rec4 = np.array([invsqrtm(M4) @ S @ invsqrtm(M4) for S in covs4])
x0 = np.round(E3[0], 4)  # the epoch stored for the covariance known answers (rounded to keep the file small)
flat = x0.copy(); flat[2] = 0.0  # a flat channel
dup = x0.copy(); dup[5] = dup[4]
riemann = dict(
    channels=PICK, srate=fs, epoch=r(x0),
    empirical=r(empirical_covariance(x0.T)),
    ledoit_wolf=dict(cov=r(ledoit_wolf(x0.T)[0]), shrinkage=float(ledoit_wolf(x0.T)[1])),
    oas=dict(cov=r(oas(x0.T)[0]), shrinkage=float(oas(x0.T)[1])),
    flat=dict(epoch=r(flat), lw=r(ledoit_wolf(flat.T)[0]), oas=r(oas(flat.T)[0])),
    duplicate=dict(epoch=r(dup), lw=r(ledoit_wolf(dup.T)[0]), oas=r(oas(dup.T)[0])),
    covs_train=r(covs3), covs_test=r(covs4),
    karcher=dict(mean=r(M3), iterations=itM),
    tangent_test=r(tangent_space(covs4, M3)),
    distances_test=[float(distance(M3, S)) for S in covs4],
    recentred_test=r(rec4),
    logmap=r(sqrtm(M3) @ logm(invsqrtm(M3) @ covs4[0] @ invsqrtm(M3)) @ sqrtm(M3)),
    sqrtm=r(sqrtm(M3)), logm=r(logm(M3)), expm_of_logm=r(expm(logm(M3))),
)
with open(f'{OUT}/riemann.json', 'w') as f:
    json.dump(riemann, f)

# ------------------------------------------------------------------ simulated ERP (xDAWN)
rng = np.random.default_rng(20261203)
C, N, fs_erp, n_trials = 8, 40, 100.0, 120
t = np.arange(N) / fs_erp
p300 = np.exp(-0.5 * ((t - 0.3) / 0.05) ** 2)       # positive bump at 300 ms
n200 = -0.6 * np.exp(-0.5 * ((t - 0.2) / 0.03) ** 2)
pattern_p = rng.normal(size=C); pattern_n = rng.normal(size=C)
mixing = rng.normal(size=(C, C))
yerp = np.array(['target' if i % 4 == 0 else 'nontarget' for i in range(n_trials)])
Xerp = []
for i in range(n_trials):
    noise = mixing @ signal.lfilter([1], [1, -0.8], rng.normal(size=(C, N)), axis=1)
    ev = np.outer(pattern_p, p300) + np.outer(pattern_n, n200)
    Xerp.append(noise + (1.2 * ev if yerp[i] == 'target' else 0.15 * ev))
Xerp = np.round(np.array(Xerp), 6)


def xdawn_filters(X, y, nfilter=4):
    classes = np.unique(y)
    Cx = empirical_covariance(np.concatenate(list(X), axis=1).T)
    filters, evokeds = [], []
    for c in classes:
        P = X[y == c].mean(axis=0)
        w, V = linalg.eigh(empirical_covariance(P.T), Cx)
        V = V[:, np.argsort(w)[::-1]]
        V /= np.linalg.norm(V, axis=0)
        filters.append(V[:, :nfilter].T)
        evokeds.append(V[:, :nfilter].T @ P)
    return np.concatenate(filters), np.concatenate(evokeds)


def binned(z, bins=10):
    """Mean of each row in `bins` consecutive time bins (edges floor(N·b/bins)), row-major."""
    N = z.shape[1]
    edges = [(N * b) // bins for b in range(bins + 1)]
    return np.stack([z[:, a:e].mean(axis=1) for a, e in zip(edges[:-1], edges[1:])], axis=1).ravel()


def xdawn_lda(Xtr, ytr, Xte):
    F, _ = xdawn_filters(Xtr, ytr)
    clf = lda().fit(np.array([binned(F @ e) for e in Xtr]), ytr)
    return clf.predict(np.array([binned(F @ e) for e in Xte]))


def xdawn_ts(Xtr, ytr, Xte):
    F, P = xdawn_filters(Xtr, ytr)
    cov = lambda X: np.array([lw(np.vstack([P, F @ e])) for e in X])
    Ctr, Cte = cov(Xtr), cov(Xte)
    ref, _ = mean_riemann(Ctr)
    clf = logreg().fit(tangent_space(Ctr, ref), ytr)
    return clf.predict(tangent_space(Cte, ref))


def sim_splits(y, k):
    half = len(y) // 2
    out = [dict(name='first half -> second half', evaluation='first half -> second half', train=list(range(half)), test=list(range(half, len(y))))]
    f = folds(y, k)
    for j in range(k):
        out.append(dict(name=f'CV fold {j + 1}/{k}', evaluation=f'{k}-fold CV', train=np.where(f != j)[0].tolist(), test=np.where(f == j)[0].tolist()))
    return out


ERP_SPLITS = sim_splits(yerp, 5)
erp_data = lambda s, part: (Xerp[s[part]], yerp[s[part]])
F_all, P_all = xdawn_filters(Xerp[:60], yerp[:60])
erp = dict(channels=C, samples=N, srate=fs_erp, epochs=Xerp.tolist(), labels=yerp.tolist(), splits=ERP_SPLITS,
           xdawn=dict(train=list(range(60)), classes=np.unique(yerp).tolist(), filters=r(F_all), evokeds=r(P_all)),
           results=run_parity({'xdawn-lda': xdawn_lda, 'xdawn-ts': xdawn_ts}, erp_data, ERP_SPLITS))
with open(f'{OUT}/erp.json', 'w') as f:
    json.dump(erp, f)

# ------------------------------------------------------------------ simulated SSVEP (CCA, FBCCA, TRCA)
C, fs_s, N = 8, 250.0, 200
freqs = [8.0, 10.0, 12.0, 15.0]
t = np.arange(N) / fs_s
gain = rng.normal(size=C) ** 2 + 0.2
mix = rng.normal(size=(C, C)) * 0.5
Xs, ys = [], []
for rep in range(6):
    for k, f0 in enumerate(freqs):
        ph = 0.3 * k
        sig = np.sin(2 * np.pi * f0 * t + ph) + 0.4 * np.sin(2 * np.pi * 2 * f0 * t + 2 * ph)
        noise = mix @ signal.lfilter([1], [1, -0.9], rng.normal(size=(C, N)), axis=1) + rng.normal(size=(C, N))
        Xs.append(0.5 * np.outer(gain, sig) + noise)
        ys.append(str(int(f0)))
Xs = np.round(np.array(Xs), 6)
ys = np.array(ys)


def refs(f0, H):
    Hs = [h for h in range(1, H + 1) if h * f0 < fs_s / 2]
    return np.vstack([g(2 * np.pi * h * f0 * t) for h in Hs for g in (np.sin, np.cos)])


def cca_closed(X, Y):
    Qx, _ = np.linalg.qr((X - X.mean(1, keepdims=True)).T)
    Qy, _ = np.linalg.qr((Y - Y.mean(1, keepdims=True)).T)
    return np.linalg.svd(Qx.T @ Qy, compute_uv=False)[0]


def cca_sklearn(X, Y):
    m = CCA(n_components=1, max_iter=5000, tol=1e-14).fit(X.T, Y.T)
    a, b = m.transform(X.T, Y.T)
    return abs(np.corrcoef(a[:, 0], b[:, 0])[0, 1])


rho_closed = np.array([[cca_closed(x, refs(f0, 3)) for f0 in freqs] for x in Xs])
rho_sk = np.array([[cca_sklearn(x, refs(f0, 3)) for f0 in freqs] for x in Xs])
assert np.max(np.abs(rho_closed - rho_sk)) < 1e-6, np.max(np.abs(rho_closed - rho_sk))
sub = [(8.0 * n, 88.0) for n in range(1, 6)]
wts = np.array([n ** -1.25 + 0.25 for n in range(1, 6)])
fb_scores = np.array([[sum(wts[i] * cca_closed(sosfilt_steady(band_sos(b, fs_s), x), refs(f0, 5)) ** 2
                           for i, b in enumerate(sub)) for f0 in freqs] for x in Xs])


def trca_filter(trials):
    Z = [x - x.mean(1, keepdims=True) for x in trials]
    Q = sum(z @ z.T for z in Z)
    s = sum(Z)
    S = s @ s.T - Q
    w, V = linalg.eigh(S, Q)
    return V[:, -1]


def trca(Xtr, ytr, Xte):
    classes = np.unique(ytr)
    W = np.array([trca_filter(Xtr[ytr == c]) for c in classes])
    tpl = [Xtr[ytr == c].mean(axis=0) for c in classes]
    pred = []
    for x in Xte:
        rr = [np.corrcoef((W @ x).ravel(), (W @ T).ravel())[0, 1] for T in tpl]
        pred.append(classes[int(np.argmax(rr))])
    return np.array(pred)


SS_SPLITS = sim_splits(ys, 3)
ss_data = lambda s, part: (Xs[s[part]], ys[s[part]])
ssvep = dict(channels=C, samples=N, srate=fs_s, freqs=freqs, epochs=Xs.tolist(), labels=ys.tolist(), splits=SS_SPLITS,
             cca=dict(harmonics=3, rho=r(rho_closed), rho_sklearn=r(rho_sk),
                      predictions=[str(int(freqs[i])) for i in np.argmax(rho_closed, axis=1)]),
             fbcca=dict(harmonics=5, bands=[list(b) for b in sub], weights=r(wts), scores=r(fb_scores),
                        sos=[r(band_sos(b, fs_s)) for b in sub],
                        predictions=[str(int(freqs[i])) for i in np.argmax(fb_scores, axis=1)]),
             results=run_parity({'trca': trca}, ss_data, SS_SPLITS))
for name, key in (('cca', 'cca'), ('fbcca', 'fbcca')):
    pr = ssvep[key]['predictions']
    rows = []
    for ev in dict.fromkeys(s_['evaluation'] for s_ in SS_SPLITS):
        idx = [i for s_ in SS_SPLITS if s_['evaluation'] == ev for i in s_['test']]
        rows.append(dict(evaluation=ev, predictions=[pr[i] for i in idx],
                         balanced_accuracy=float(balanced_accuracy_score(ys[idx], [pr[i] for i in idx]))))
    ssvep['results'][name] = rows
    print(name, ' '.join(f"{row['balanced_accuracy']:.3f}" for row in rows))
with open(f'{OUT}/ssvep.json', 'w') as f:
    json.dump(ssvep, f)

# ------------------------------------------------------------------ logistic regression on a multi-class problem
Xm = rng.normal(size=(60, 5)); ym = np.array(['a', 'b', 'c'])[np.argmax(Xm[:, :3] + 0.8 * rng.normal(size=(60, 3)), axis=1)]
lrm = logreg('newton-cg').fit(Xm, ym)
with open(f'{OUT}/logreg.json', 'w') as f:
    json.dump(dict(X=r(Xm), y=ym.tolist(), classes=lrm.classes_.tolist(), coef=r(lrm.coef_), intercept=r(lrm.intercept_),
                   proba=r(lrm.predict_proba(Xm[:5]))), f)
for fn in sorted(os.listdir(OUT)):
    print(fn, os.path.getsize(f'{OUT}/{fn}'), 'bytes')
