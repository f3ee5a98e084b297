// Containment of renderer-supplied paths in folders the operator approved. The schema has already
// refused relative paths and . or .. segments, so a textual comparison on normalised separators is exact.

function normalise(path: string): string {
  const unified = path.replace(/[\\/]+/g, '/');
  return unified.length > 1 && unified.endsWith('/') ? unified.slice(0, -1) : unified;
}

/** Windows paths compare case-insensitively (drive letters and names alike). */
function comparable(path: string): string {
  const n = normalise(path);
  return /^[A-Za-z]:\//.test(n) || n.startsWith('//') ? n.toLowerCase() : n;
}

/**
 * True when `path` is `root` or lies below it. With `isFile`, the file itself may not be the root:
 * it must lie inside it.
 */
export function isSameOrInside(path: string, root: string, isFile = false): boolean {
  const p = comparable(path);
  const r = comparable(root);
  if (p === r) return !isFile;
  const prefix = r.endsWith('/') ? r : `${r}/`;
  return p.startsWith(prefix);
}
