// "Did you mean --dest?" for a mistyped option: the known option closest to it by edit distance, when it
// is close enough to be a typo rather than another word.

/** Edits (insert, delete, replace, swap two neighbours) from `a` to `b`: "dset" is one swap from "dest". */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest of `known` (without dashes) to `given`, or null when none is within a typo's reach. */
export function closestOption(given: string, known: readonly string[]): string | null {
  const name = given.replace(/^-+/, '').split('=')[0]!.toLowerCase();
  if (!name) return null;
  let best: { option: string; d: number } | null = null;
  for (const option of known) {
    const d = option.startsWith(name) && name.length >= 3 ? 0.5 : editDistance(name, option);
    if (!best || d < best.d) best = { option, d };
  }
  const reach = Math.max(1, Math.floor(name.length / 3));
  return best && best.d <= reach ? best.option : null;
}

/** The option node's parseArgs names in an "Unknown option" error, if that is what it is. */
export function unknownOptionOf(message: string): string | null {
  const m = /Unknown option '([^']+)'/.exec(message);
  return m ? m[1]! : null;
}
