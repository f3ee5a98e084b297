// The worker thread behind prefix-digests.ts: hashes a file from its start as far as it is told the bytes are
// written, reading them back (from the page cache, as a rule), and answers with the digests once told the file
// is complete. Node's hashes: 1,300 MB/s for SHA-256 here, against 227 MB/s for hash-wasm's, whose state could
// be saved across a restart but which held a 257 MiB download on loopback up by 0.9 s (see prefix-digests.ts).
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { DigestKind } from './checksum-text';
import type { DigestWorkerData, FromDigestWorker, ToDigestWorker } from './prefix-digests';

const READ_BYTES = 4 * 1024 * 1024;

async function serve(data: DigestWorkerData): Promise<void> {
  const port = parentPort!;
  const post = (m: FromDigestWorker) => port.postMessage(m);
  const hashes = data.kinds.map((kind) => ({ kind, hash: createHash(kind) }));
  const handle = await fsp.open(data.path, 'r');
  const buf = Buffer.allocUnsafe(READ_BYTES);
  let position = 0;
  let target = 0;
  let final: { id: number; offset: number } | null = null;
  let pumping = false;
  let failed = false;

  async function pump(): Promise<void> {
    if (pumping || failed) return;
    pumping = true;
    try {
      for (;;) {
        const end = Math.max(target, final?.offset ?? 0);
        if (position < end) {
          const { bytesRead } = await handle.read(buf, 0, Math.min(READ_BYTES, end - position), position);
          if (bytesRead === 0) throw new Error(`${data.path} ends at byte ${position}, before byte ${end} the checksum was to reach`);
          const piece = buf.subarray(0, bytesRead);
          for (const h of hashes) h.hash.update(piece);
          position += bytesRead;
          post({ t: 'at', position });
          continue;
        }
        if (final) {
          const values: Partial<Record<DigestKind, string>> = {};
          for (const h of hashes) values[h.kind] = h.hash.digest('hex');
          post({ t: 'digest', id: final.id, values });
          await handle.close();
        }
        break;
      }
    } catch (err) {
      failed = true;
      post({ t: 'error', message: (err as Error).message, code: (err as NodeJS.ErrnoException).code ?? null });
    } finally {
      pumping = false;
    }
  }

  port.on('message', (m: ToDigestWorker) => {
    if (m.t === 'to') target = Math.max(target, m.offset);
    else final = { id: m.id, offset: m.offset };
    void pump();
  });
  post({ t: 'ready' });
}

if (parentPort && workerData?.digestWorker === true) {
  serve(workerData as DigestWorkerData).catch((err: Error) => parentPort!.postMessage({ t: 'error', message: err.message, code: (err as NodeJS.ErrnoException).code ?? null }));
}
