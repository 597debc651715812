// The middle of a benchmark's samples (the mean of the two middle ones for an even count; NaN for none), one
// definition for the bench/ scripts that report medians.

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
