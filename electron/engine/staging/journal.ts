// An append-only log of chunk records, crash-consistent: each record is framed with its length and a CRC-32,
// so a torn tail (a crash mid-append) is recognised and ignored: everything before it is trusted, nothing
// after it is. A staged record carries its chunk's CRC-32, which the chunk file must still match to be used.
import { JOURNAL_FILE } from '../state/layout';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { AttemptRecord } from '../events';
import { crc32 } from '../decode/gzip/crc32';
import type { OutputRecord } from './output-record';

export interface StagedRecord {
  t: 'staged';
  index: number;
  length: number;
  crc: number;
}

/** A failed attempt, kept so `status` (and a restarted app) can show a chunk's history. */
export interface AttemptJournalRecord {
  t: 'attempt';
  index: number;
  attempt: AttemptRecord;
}

/**
 * The CRC-32 of the first `length` bytes of a chunk's part file (the chunk starting at `start`): a part is
 * continued after a restart only as far as such a record vouches for it (see staging.ts).
 */
export interface PartRecord {
  t: 'part';
  index: number;
  start: number;
  length: number;
  crc: number;
}

export type JournalRecord = StagedRecord | AttemptJournalRecord | PartRecord | OutputRecord;

const HEADER = 8; // u32 length, u32 crc32 of the payload

export class Journal {
  private constructor(
    readonly path: string,
    private readonly handle: fsp.FileHandle,
  ) {}

  /** Opens the log for appending after dropping a torn tail; returns the valid records. */
  static async open(stateDir: string): Promise<{ journal: Journal; records: JournalRecord[]; tornBytes: number }> {
    const path = join(stateDir, JOURNAL_FILE);
    const { records, validBytes, totalBytes } = await readJournal(path);
    const handle = await fsp.open(path, 'a+', 0o600);
    if (validBytes < totalBytes) {
      await handle.truncate(validBytes);
      await handle.sync();
    }
    return { journal: new Journal(path, handle), records, tornBytes: totalBytes - validBytes };
  }

  async append(record: JournalRecord): Promise<void> {
    await this.appendUnsynced(record);
    await this.handle.sync();
  }

  /**
   * Appends without an fsync: for records whose loss costs only some re-fetching (a part's prefix record:
   * the part's bytes are not synced either, and a lost record only means an earlier one is used).
   */
  async appendUnsynced(record: JournalRecord): Promise<void> {
    const payload = Buffer.from(JSON.stringify(record));
    const frame = Buffer.allocUnsafe(HEADER + payload.length);
    frame.writeUInt32LE(payload.length, 0);
    frame.writeUInt32LE(crc32(payload, 0), 4);
    payload.copy(frame, HEADER);
    await this.handle.write(frame);
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

export async function readJournal(path: string): Promise<{ records: JournalRecord[]; validBytes: number; totalBytes: number }> {
  const data = await fsp.readFile(path).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? Buffer.alloc(0) : Promise.reject(err)));
  const records: JournalRecord[] = [];
  let pos = 0;
  while (pos + HEADER <= data.length) {
    const length = data.readUInt32LE(pos);
    const crc = data.readUInt32LE(pos + 4);
    if (length > 1 << 20 || pos + HEADER + length > data.length) break;
    const payload = data.subarray(pos + HEADER, pos + HEADER + length);
    if (crc32(payload, 0) !== crc) break;
    try {
      records.push(JSON.parse(payload.toString('utf8')) as JournalRecord);
    } catch {
      break;
    }
    pos += HEADER + length;
  }
  return { records, validBytes: pos, totalBytes: data.length };
}
