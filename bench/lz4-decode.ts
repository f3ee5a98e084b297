// Throughput of the lz4 decoder against `lz4 -d > /dev/null`, for independent and linked blocks, and the
// size of a checkpoint in each mode. Both run on the same machine one after the other; best of 3 each.
// Usage: node dist/bench/lz4-decode.js [file.tar]   (default: the first 256 MiB of a tar of /usr/lib)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lz4Decoder } from '../electron/engine/decode/lz4/lz4-decoder';
import { isDecoderPoint } from '../electron/engine/decode/resumable-decoder';

const PIECE = 1 << 20;
const MiB = 1024 * 1024;
const RUNS = 3;

function ourDecoder(compressed: Buffer): { seconds: number; bytes: number; pointBytes: number } {
  const d = new Lz4Decoder();
  let bytes = 0;
  let pointBytes = 0;
  let nextPoint = 0;
  const started = performance.now();
  for (let at = 0; at < compressed.length; at += PIECE) {
    // A checkpoint per 64 MiB of output, as often as the job asks one on a fast link.
    if (bytes >= nextPoint) {
      d.requestCheckpoint();
      nextPoint += 64 * MiB;
    }
    for (const item of d.push(compressed.subarray(at, at + PIECE))) {
      if (isDecoderPoint(item)) pointBytes = Math.max(pointBytes, JSON.stringify(item).length);
      else bytes += item.length;
    }
  }
  d.finish();
  return { seconds: (performance.now() - started) / 1000, bytes, pointBytes };
}

function nativeTool(file: string): number {
  const started = performance.now();
  const r = spawnSync('sh', ['-c', `lz4 -d -c "${file}" > /dev/null`]);
  if (r.status !== 0) throw new Error(`lz4 -d failed: ${r.stderr}`);
  return (performance.now() - started) / 1000;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'lz4-bench-'));
  try {
    const tarPath = process.argv[2] ?? join(dir, 'fixture.tar');
    if (!process.argv[2]) execFileSync('sh', ['-c', `tar -cf - -C /usr lib 2>/dev/null | head -c ${256 * MiB} > "${tarPath}"`]);
    const size = readFileSync(tarPath).length;
    console.log(`input: ${tarPath === process.argv[2] ? tarPath : 'tar of /usr/lib'}, ${(size / MiB).toFixed(0)} MiB`);
    for (const [mode, args] of [
      ['independent blocks (lz4 defaults)', []],
      ['linked blocks (lz4 -BD)', ['-BD']],
    ] as const) {
      const file = join(dir, `fixture-${args.length}.lz4`);
      writeFileSync(file, execFileSync('lz4', ['-q', '-c', ...args, tarPath], { maxBuffer: 1 << 30 }));
      const compressed = readFileSync(file);
      let ours = Infinity;
      let tool = Infinity;
      let pointBytes = 0;
      for (let r = 0; r < RUNS; r++) {
        const o = ourDecoder(compressed);
        if (o.bytes !== size) throw new Error(`decoded ${o.bytes} bytes, not ${size}`);
        ours = Math.min(ours, o.seconds);
        pointBytes = o.pointBytes;
        tool = Math.min(tool, nativeTool(file));
      }
      console.log(
        `${mode}: compressed ${(compressed.length / MiB).toFixed(0)} MiB; ours ${(size / MiB / ours).toFixed(0)} MiB/s, ` +
          `lz4 -d ${(size / MiB / tool).toFixed(0)} MiB/s (${((100 * tool) / ours).toFixed(0)}%); checkpoint ${pointBytes} bytes of JSON`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
