export { StreamMonitor } from './continuity.ts';
