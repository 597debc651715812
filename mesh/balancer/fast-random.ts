// The balancers' default random source: a xorshift32 generator seeded once from Math.random. Every p2c pick draws
// three numbers; Math.random's builtin cost ~60 instructions a draw on the proxy's path (bench/RESULTS.md "cpucut"),
// this a handful. Picking between replicas needs an even spread, not unpredictability.

// Never 0 (xorshift's one fixed point): the seed is forced odd. Kept as an int32 (a small integer on 64-bit node),
// not a uint32 above 2^31, which would be a heap number allocated at every draw.
let state = (Math.random() * 0x100000000) | 1;

/** Uniform in [0, 1), like Math.random (32 bits of it). */
export function fastRandom(): number {
  let x = state;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  state = x;
  return (x >>> 0) / 0x100000000;
}
