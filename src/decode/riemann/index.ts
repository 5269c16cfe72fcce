export * from './spd.ts';
export * from './covariance.ts';
export * from './tangent.ts';
