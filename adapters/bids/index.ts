/** BIDS sidecars: electrode positions (`*_electrodes.tsv` + `*_coordsystem.json`). */
export * from './electrodes.ts';
