/** "Did you mean …?" for names users mistype: keys, options, commands, YAML keys, targets. */

/** Optimal string alignment distance: Levenshtein plus a swap of neighbours as one edit. */
export function editDistance(a: string, b: string): number {
  const cols = b.length + 1;
  const d = new Array<number>((a.length + 1) * cols).fill(0);
  for (let i = 0; i <= a.length; i++) d[i * cols] = i;
  for (let j = 0; j <= b.length; j++) d[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(d[(i - 1) * cols + j] + 1, d[i * cols + j - 1] + 1, d[(i - 1) * cols + j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, d[(i - 2) * cols + j - 2] + 1);
      d[i * cols + j] = value;
    }
  }
  return d[a.length * cols + b.length];
}

export interface ClosestOptions {
  /** Also accept a candidate that `input` (2+ characters) begins, as the best guess. */
  prefix?: boolean;
}

/**
 * The candidate closest to `input` (case-insensitive) that is near enough to be a typo — at most a
 * third of its length in edits, 1 to 3 — or undefined.
 */
export function closest(input: string, candidates: readonly string[], options: ClosestOptions = {}): string | undefined {
  const word = input.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    const lower = candidate.toLowerCase();
    const limit = Math.max(1, Math.min(3, Math.floor(candidate.length / 3)));
    const distance = editDistance(word, lower);
    const score = options.prefix && word.length >= 2 && lower.startsWith(word) ? 0.5 : distance <= limit ? distance : Infinity;
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}
