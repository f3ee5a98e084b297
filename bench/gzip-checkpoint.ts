// Throughput of the checkpointing gunzip against zlib.createGunzip, with and without checkpoints.
// Usage: node dist/bench/gzip-checkpoint.js [file.gz]   (default: a tar of node_modules, gzip -6)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { CheckpointingGunzip, isCheckpoint, type GzipCheckpoint } from '../electron/engine/decode/gzip/checkpointing-gunzip';

const PIECE = 1 << 20;
const MB = 1e6;

function fixture(): { gz: Buffer; label: string } {
  const given = process.argv[2];
  if (given) return { gz: readFileSync(given), label: given };
  const dir = mkdtempSync(join(tmpdir(), 'gzip-bench-'));
  try {
    const tarPath = join(dir, 'fixture.tar');
    execFileSync('sh', ['-c', `tar -cf - -C "${process.cwd()}" node_modules 2>/dev/null | head -c 300000000 > "${tarPath}"`]);
    const gz = execFileSync('gzip', ['-6', '-c', tarPath], { maxBuffer: 1 << 30 });
    return { gz, label: 'tar of node_modules (<= 300 MB), gzip -6' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function zlibStream(gz: Buffer): Promise<number> {
  let size = 0;
  const pieces = function* () {
    for (let at = 0; at < gz.length; at += PIECE) yield gz.subarray(at, at + PIECE);
  };
  await pipeline(
    Readable.from(pieces()),
    zlib.createGunzip(),
    new Writable({
      write(chunk: Buffer, _enc, done) {
        size += chunk.length;
        done();
      },
    }),
  );
  return size;
}

interface Run {
  size: number;
  checkpoints: GzipCheckpoint[];
  decoder: CheckpointingGunzip;
}

function checkpointing(gz: Buffer, engine: 'native' | 'portable', every: number): Run {
  const decoder = new CheckpointingGunzip({ engine });
  const checkpoints: GzipCheckpoint[] = [];
  let size = 0;
  let next = every;
  for (let at = 0; at < gz.length; at += PIECE) {
    for (const chunk of decoder.push(gz.subarray(at, at + PIECE))) {
      if (isCheckpoint(chunk)) checkpoints.push(chunk);
      else size += chunk.length;
    }
    if (size >= next) {
      decoder.requestCheckpoint();
      next = size + every;
    }
  }
  decoder.finish();
  return { size, checkpoints, decoder };
}

async function timed<T>(fn: () => T | Promise<T>, repeat: number): Promise<{ ms: number; value: T }> {
  let best = Infinity;
  let value: T | undefined;
  for (let i = 0; i < repeat; i++) {
    const started = performance.now();
    value = await fn();
    best = Math.min(best, performance.now() - started);
  }
  return { ms: best, value: value! };
}

async function main(): Promise<void> {
  const { gz, label } = fixture();
  const repeat = Number(process.env.BENCH_REPEAT ?? 3);
  console.log(`input: ${label}: ${(gz.length / MB).toFixed(1)} MB compressed; node ${process.version}; best of ${repeat}`);
  // Warm up both paths (JIT, zlib allocations) before measuring.
  const warm = zlib.gzipSync(zlib.gunzipSync(gz).subarray(0, 8 * MB));
  checkpointing(warm, 'native', 1 << 20);
  await zlibStream(warm);
  const base = await timed(() => zlibStream(gz), repeat);
  const rate = (size: number, ms: number) => (size / MB / (ms / 1000)).toFixed(0);
  console.log(`zlib.createGunzip stream           ${rate(base.value, base.ms)} MB/s of output (${(base.value / MB).toFixed(1)} MB)`);
  for (const [name, every] of [
    ['native, no checkpoints', Infinity],
    ['native, checkpoint every 64 MiB', 64 << 20],
    ['native, checkpoint every 16 MiB', 16 << 20],
    ['native, checkpoint every 1 MiB', 1 << 20],
  ] as const) {
    const run = await timed(() => checkpointing(gz, 'native', every), repeat);
    const { size, checkpoints, decoder } = run.value;
    if (size !== base.value) throw new Error(`${name}: ${size} bytes, zlib gave ${base.value}`);
    const s = decoder.stats;
    const perSearch = s.bitSearches
      ? ` | ${checkpoints.length} checkpoints, bit search ${(s.bitSearchMs / s.bitSearches).toFixed(2)} ms each, ${s.bitSearchesInconclusive} inconclusive`
      : '';
    const ratio = (base.ms / run.ms).toFixed(3);
    console.log(`${name.padEnd(35)}${rate(size, run.ms)} MB/s (x${ratio} of createGunzip)${perSearch}`);
    if (checkpoints.length > 0 && every === 16 << 20) {
      const sizes = checkpoints.map((c) => JSON.stringify(c).length);
      console.log(`  checkpoint JSON size: ${Math.max(...sizes)} bytes max`);
    }
  }
  const slice = Math.min(gz.length, 40 * MB);
  if (slice === gz.length) {
    const portable = await timed(() => checkpointing(gz, 'portable', 64 << 20), 1);
    console.log(`portable (pako), every 64 MiB      ${rate(portable.value.size, portable.ms)} MB/s`);
  } else {
    console.log('portable (pako): skipped on inputs over 40 MB (about a third of native)');
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
