// An append-only log of chunk records, crash-consistent: each record is framed with its length and a CRC-32,
// so a torn tail (a crash mid-append) is recognised and ignored: everything before it is trusted, nothing
// after it is. A staged record carries its chunk's CRC-32, which the chunk file must still match to be used.
//
// So an append that fails part way (a full disk) must not leave its bytes for the next one to follow: the
// reader would stop at them and never see a later record. Appends go one at a time, each at the end of the
// whole records, and a failed one is cut off (now, or before the next append if the cut fails too).
import { JOURNAL_FILE } from '../state/layout';
import { constants as fsc, promises as fsp } from 'node:fs';
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
  /** Appends, one at a time: each is written where the whole records end. */
  private appends: Promise<void> = Promise.resolve();
  /** A failed append left bytes past `size` that are not cut off yet. */
  private torn = false;

  private constructor(
    readonly path: string,
    private readonly handle: fsp.FileHandle,
    /** Bytes of whole records in the file. */
    private size: number,
  ) {}

  /** Opens the log for appending after dropping a torn tail; returns the valid records. */
  static async open(stateDir: string): Promise<{ journal: Journal; records: JournalRecord[]; tornBytes: number }> {
    const path = join(stateDir, JOURNAL_FILE);
    const { records, validBytes, totalBytes } = await readJournal(path);
    // Not O_APPEND: Linux ignores the position of a write to a file opened for appending.
    const handle = await fsp.open(path, fsc.O_RDWR | fsc.O_CREAT, 0o600);
    if (validBytes < totalBytes) {
      await handle.truncate(validBytes);
      await handle.sync();
    }
    return { journal: new Journal(path, handle, validBytes), records, tornBytes: totalBytes - validBytes };
  }

  async append(record: JournalRecord): Promise<void> {
    await this.appendUnsynced(record);
    await this.handle.sync();
  }

  /**
   * Appends without an fsync: for records whose loss costs only some re-fetching (a part's prefix record:
   * the part's bytes are not synced either, and a lost record only means an earlier one is used).
   */
  appendUnsynced(record: JournalRecord): Promise<void> {
    const payload = Buffer.from(JSON.stringify(record));
    const frame = Buffer.allocUnsafe(HEADER + payload.length);
    frame.writeUInt32LE(payload.length, 0);
    frame.writeUInt32LE(crc32(payload, 0), 4);
    payload.copy(frame, HEADER);
    const run = this.appends.then(() => this.writeFrame(frame));
    this.appends = run.catch(() => undefined);
    return run;
  }

  private async writeFrame(frame: Buffer): Promise<void> {
    if (this.torn) {
      await this.handle.truncate(this.size);
      this.torn = false;
    }
    let written = 0;
    try {
      while (written < frame.length) {
        const { bytesWritten } = await this.handle.write(frame, written, frame.length - written, this.size + written);
        if (bytesWritten === 0) throw Object.assign(new Error(`no space left to append to ${this.path}`), { code: 'ENOSPC' });
        written += bytesWritten;
      }
    } catch (err) {
      this.torn = true;
      // Truncating frees blocks, so it works on a full disk too; if it does not, the next append cuts first.
      await this.handle.truncate(this.size).then(
        () => {
          this.torn = false;
        },
        () => undefined,
      );
      throw err;
    }
    this.size += frame.length;
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
