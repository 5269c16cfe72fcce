/**
 * Per-modality amplitudes of the simulator's background spectra, rhythms, evoked
 * responses and artifacts (µV; fT for MEG). The values and their sources are
 * tabulated in docs/devices.md, "Signal model".
 */

/** What differs between EEG, SEEG, ECoG and MEG in the signal model. */
export interface ModalityParams {
  /** per-channel 1/f background rms and spectral exponent */
  noiseRms: number;
  noiseBeta: number;
  /** latent (spatially spread) 1/f sources */
  latentN: number;
  latentRms: number;
  latentBeta: number;
  /** spatial spread (chord distance on the unit sphere, or mm) */
  sigma: number;
  localSigma: number;
  alphaRms: number;
  muRms: number;
  betaRms: number;
  thetaRms: number;
  /** µV-template scale for ERPs (P300, VEP) */
  erpScale: number;
  ssvepAmp: number;
  hgRms: number;
  rippleAmp: number;
  blinkAmp: number;
  blinkPerMin: number;
  popAmp: number;
  popPerMin: number;
  driftRms: number;
  lineRms: number;
  dipolar: boolean;
}

const EEG_PARAMS: ModalityParams = {
  noiseRms: 4, noiseBeta: 1.0, latentN: 12, latentRms: 7, latentBeta: 1.7, sigma: 0.5, localSigma: 0.3,
  alphaRms: 9, muRms: 5, betaRms: 2.5, thetaRms: 0, erpScale: 1, ssvepAmp: 4, hgRms: 0, rippleAmp: 0,
  blinkAmp: 120, blinkPerMin: 12, popAmp: 100, popPerMin: 1.5, driftRms: 15, lineRms: 3, dipolar: false,
};

/** The parameters of every electrophysiology kind (audio and markers have none). */
export const PARAMS: Record<'eeg' | 'synthetic' | 'seeg' | 'ecog' | 'meg', ModalityParams> = {
  eeg: EEG_PARAMS,
  synthetic: EEG_PARAMS,
  seeg: {
    noiseRms: 18, noiseBeta: 1.5, latentN: 12, latentRms: 20, latentBeta: 1.8, sigma: 12, localSigma: 2.5,
    alphaRms: 8, muRms: 0, betaRms: 6, thetaRms: 15, erpScale: -2.5, ssvepAmp: 0, hgRms: 7, rippleAmp: 40,
    blinkAmp: 0, blinkPerMin: 0, popAmp: 200, popPerMin: 0.5, driftRms: 10, lineRms: 2, dipolar: false,
  },
  ecog: {
    noiseRms: 15, noiseBeta: 1.4, latentN: 8, latentRms: 25, latentBeta: 1.8, sigma: 15, localSigma: 4,
    alphaRms: 6, muRms: 12, betaRms: 6, thetaRms: 0, erpScale: 0, ssvepAmp: 0, hgRms: 4, rippleAmp: 0,
    blinkAmp: 0, blinkPerMin: 0, popAmp: 150, popPerMin: 0.5, driftRms: 10, lineRms: 3, dipolar: false,
  },
  meg: {
    noiseRms: 12, noiseBeta: 0.4, latentN: 12, latentRms: 120, latentBeta: 1.7, sigma: 0.45, localSigma: 0.3,
    alphaRms: 250, muRms: 120, betaRms: 60, thetaRms: 0, erpScale: 20, ssvepAmp: 60, hgRms: 0, rippleAmp: 0,
    blinkAmp: 400, blinkPerMin: 12, popAmp: 500, popPerMin: 0.3, driftRms: 200, lineRms: 40, dipolar: true,
  },
};
