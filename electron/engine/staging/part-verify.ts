// How much of a part file left by an earlier run can be trusted. Part files are not fsynced (see
// staging.ts), so after a power loss a file system may return zeros, or old bytes, for pages it never wrote
// back, with the file's size intact: its size alone proves nothing. The journal holds the CRC-32 of prefixes
// of each part as it was written (PartRecord); the longest prefix whose bytes still match its record is
// kept, and the rest is fetched again.
import type { promises as fsp } from 'node:fs';
import { crc32 } from '../decode/gzip/crc32';
import type { Journal, JournalRecord } from './journal';
import type { PartJournal } from './staging';

export interface PrefixRecord {
  length: number;
  crc: number;
}

/** The longest recorded prefix of the file (of `size` bytes) that still matches its CRC, read once. */
export async function verifiedPrefix(handle: fsp.FileHandle, size: number, records: readonly PrefixRecord[]): Promise<PrefixRecord> {
  const wanted = [...records].filter((r) => r.length > 0 && r.length <= size).sort((a, b) => a.length - b.length);
  let best: PrefixRecord = { length: 0, crc: 0 };
  if (wanted.length === 0) return best;
  const end = wanted[wanted.length - 1]!.length;
  const buf = Buffer.allocUnsafe(Math.min(end, 4 * 1024 * 1024));
  let crc = 0;
  let pos = 0;
  let next = 0;
  while (next < wanted.length && pos < end) {
    const stop = wanted[next]!.length;
    const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, stop - pos), pos);
    if (bytesRead === 0) break;
    crc = crc32(buf.subarray(0, bytesRead), crc);
    pos += bytesRead;
    // Several records may share a length (an attempt's end recorded twice): any match will do.
    while (next < wanted.length && wanted[next]!.length === pos) {
      if (wanted[next]!.crc === crc) best = { length: pos, crc };
      next++;
    }
  }
  return best;
}

/** The prefix records of the journal, by chunk, for parts of chunks laid out with `chunkSize`. */
export function partPrefixes(records: readonly JournalRecord[], chunkSize: number): Map<number, PrefixRecord[]> {
  const out = new Map<number, PrefixRecord[]>();
  for (const r of records) {
    // A record made with another chunk size describes other bytes of the file.
    if (r.t !== 'part' || r.start !== r.index * chunkSize) continue;
    const list = out.get(r.index) ?? [];
    list.push({ length: r.length, crc: r.crc });
    out.set(r.index, list);
  }
  return out;
}

/** A PartJournal over the job's journal (records are appended without fsync: see Journal.appendUnsynced). */
export function journalParts(journal: Journal, records: readonly JournalRecord[], chunkSize: number, dropped: PartJournal['dropped']): PartJournal {
  return {
    chunkSize,
    prefixes: partPrefixes(records, chunkSize),
    record: (index, start, length, crc) => void journal.appendUnsynced({ t: 'part', index, start, length, crc }).catch(() => undefined),
    ...(dropped ? { dropped } : {}),
  };
}
