// Waits for free space on a filesystem: a job paused as disk-full on its destination continues once the
// operator has freed enough (a chunk's worth, or what the refusal said was needed).
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';

/** Free bytes on the filesystem holding `path` (or its nearest existing parent), or null if unknown. */
export async function freeBytes(path: string): Promise<number | null> {
  for (let p = path; ; p = dirname(p)) {
    const st = await fsp.statfs(p).catch(() => null);
    if (st) return st.bavail * st.bsize;
    if (dirname(p) === p) return null;
  }
}

/** Resolves once `path`'s filesystem has `bytes` free; checks every `everyMs`; rejects when `signal` aborts. */
export async function waitForFreeSpace(path: string, bytes: number, signal: AbortSignal, everyMs = 1000): Promise<void> {
  for (;;) {
    if (signal.aborted) throw signal.reason;
    const free = await freeBytes(path);
    if (free !== null && free >= bytes) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, everyMs);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }
}
