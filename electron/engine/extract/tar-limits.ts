// Caps that keep a hostile or broken archive from exhausting the disk, memory or the file system's
// patience. Defaults are generous for real snapshots (millions of files, terabytes), tight for nonsense.
import { ArchiveError } from '../errors';

export interface ExtractLimits {
  /** Path components below the destination. */
  maxDepth: number;
  /** Bytes of the whole relative path (UTF-8). Linux PATH_MAX is 4096. */
  maxPathBytes: number;
  /** Bytes of one path component. Most file systems stop at 255. */
  maxComponentBytes: number;
  /** Declared size of one member's data. */
  maxEntrySize: number;
  /** Sum of the declared sizes of all members (the gzip-bomb cap). Unbounded by default: free disk decides. */
  maxTotalSize: number;
  /** Members, long-name and pax records not counted. */
  maxEntries: number;
  /** One pax extended header or GNU long-name record. */
  maxPaxHeaderSize: number;
}

export const DEFAULT_LIMITS: Readonly<ExtractLimits> = Object.freeze({
  maxDepth: 128,
  maxPathBytes: 4096,
  maxComponentBytes: 255,
  maxEntrySize: Number.POSITIVE_INFINITY,
  maxTotalSize: Number.POSITIVE_INFINITY,
  maxEntries: 50_000_000,
  maxPaxHeaderSize: 1024 * 1024,
});

export function resolveLimits(overrides: Partial<ExtractLimits> | undefined): ExtractLimits {
  const out: ExtractLimits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as Array<keyof ExtractLimits>) {
    const v = overrides?.[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || Number.isNaN(v) || v < 0) throw new RangeError(`limit ${key} must be a non-negative number`);
    out[key] = v;
  }
  return out;
}

/** The caps on one more member (`count` members, `total` bytes so far with it): E_LIMIT_EXCEEDED past one. */
export function checkMemberLimits(limits: ExtractLimits, m: { count: number; size: number; total: number; name: string; offset: number }): void {
  const { count, size, total, name, offset } = m;
  if (count > limits.maxEntries) {
    throw new ArchiveError('E_LIMIT_EXCEEDED', `The archive has more than ${limits.maxEntries} members.`, { details: { offset, limit: limits.maxEntries } });
  }
  if (size > limits.maxEntrySize) {
    throw new ArchiveError('E_LIMIT_EXCEEDED', `"${name}" declares ${size} bytes, over the per-entry limit of ${limits.maxEntrySize}.`, {
      details: { offset, entry: name, size, limit: limits.maxEntrySize },
    });
  }
  if (total > limits.maxTotalSize) {
    throw new ArchiveError('E_LIMIT_EXCEEDED', `The archive's members add up to more than the limit of ${limits.maxTotalSize} bytes (reached at "${name}").`, {
      details: { offset, entry: name, limit: limits.maxTotalSize },
    });
  }
}
