/** The counter outlet moved to devices/counter.ts (benchmarks use it too, and bench/ never imports test/); kept for existing imports. */
export { CounterCheck, counterOutlet } from '../../devices/counter.ts';
