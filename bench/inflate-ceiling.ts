// The ceiling for scenario 1: Node's zlib gunzip of the same file from the page cache, output discarded,
// on one core, in a process of its own. Prints the elapsed milliseconds.
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: inflate-ceiling <file.gz>');
  const started = performance.now();
  let out = 0;
  await pipeline(
    createReadStream(file, { highWaterMark: 1 << 20 }),
    createGunzip({ chunkSize: 256 * 1024 }),
    new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _enc, cb) {
        out += chunk.length;
        cb();
      },
    }),
  );
  process.stdout.write(JSON.stringify({ ms: performance.now() - started, bytesOut: out }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
