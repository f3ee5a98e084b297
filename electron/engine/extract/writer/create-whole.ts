// A batch of small files created, filled, timed and closed with synchronous calls, in the batch's order,
// one result per file: on a creation pool thread, or in the event loop while no thread is running yet.
// Whatever is at a file's name is unlinked first (an empty directory removed), never opened or followed.
import * as fs from 'node:fs';
import type { CreationBatch, CreationResult } from './creation-protocol';

export function createBatch(batch: CreationBatch): CreationResult[] {
  const bytes = Buffer.from(batch.data);
  const results: CreationResult[] = [];
  for (const f of batch.files) {
    const path = typeof f.path === 'string' ? f.path : Buffer.from(f.path.buffer, f.path.byteOffset, f.path.byteLength);
    try {
      results.push(createOne(path, batch.flags, f.mode, bytes.subarray(f.start, f.end), f.mtime));
    } catch (err) {
      results.push(errorOf(err));
    }
  }
  return results;
}

function createOne(path: string | Buffer, flags: number, mode: number, data: Buffer, mtime: number): CreationResult {
  let fd: number;
  try {
    fd = fs.openSync(path, flags, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const st = fs.lstatSync(path);
    if (st.isDirectory()) {
      try {
        fs.rmdirSync(path);
      } catch (rmErr) {
        const code = (rmErr as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST') return { skip: 'EXISTING_DIRECTORY' };
        throw rmErr;
      }
    } else {
      fs.unlinkSync(path);
    }
    fd = fs.openSync(path, flags, mode);
  }
  try {
    for (let done = 0; done < data.length; ) done += fs.writeSync(fd, data, done, data.length - done, done);
    fs.futimesSync(fd, Date.now() / 1000, mtime);
  } finally {
    fs.closeSync(fd);
  }
  return { ok: true };
}

function errorOf(err: unknown): CreationResult {
  const e = err as NodeJS.ErrnoException;
  return { error: { message: e.message, code: e.code, errno: e.errno, syscall: e.syscall } };
}
