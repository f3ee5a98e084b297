// Positional vectored writes that finish the job: a short writev is legal, so the rest is written again.
import * as fs from 'node:fs';
import { promisify } from 'node:util';

const writev = promisify(fs.writev);

/** writev until every byte is written; returns the byte count. */
export async function writevAll(fd: number, buffers: Buffer[], position: number): Promise<number> {
  let total = 0;
  for (const b of buffers) total += b.length;
  let done = 0;
  let bufs = buffers;
  while (done < total) {
    const { bytesWritten } = await writev(fd, bufs, position + done);
    done += bytesWritten;
    if (done < total) bufs = dropBytes(bufs, bytesWritten);
  }
  return total;
}

function dropBytes(buffers: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = n;
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}
