/**
 * Seconds on the LSL clock. liblsl's lsl_local_clock reads the same monotonic clock as
 * process.hrtime (checked on Linux, DESIGN.md), so stages take time without an FFI call.
 */
export function localClock(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}
