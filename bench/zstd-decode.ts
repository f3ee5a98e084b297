// zstd decode throughput and checkpoint sizes: the TypeScript decoder against `zstd -d > /dev/null` and,
// when a Node 22+ binary is given, its native zlib.createZstdDecompress. Output is discarded everywhere.
//   node dist/bench/zstd-decode.js <file> [--node22 <node binary>] [--runs N] [--levels -3,-19] [--long]
// Compressed copies are kept next to the input (<file>.-3.zst, ...) and reused while newer than it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isDecoderPoint } from '../electron/engine/decode/resumable-decoder';
import { ZstdDecoder } from '../electron/engine/decode/zstd/factory';

interface Args {
  file: string;
  node22: string | null;
  runs: number;
  levels: string[];
  long: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { file: '', node22: null, runs: 3, levels: ['-3', '-19'], long: false };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i]!;
    if (v === '--node22') a.node22 = argv[++i]!;
    else if (v === '--runs') a.runs = Number(argv[++i]);
    else if (v === '--levels') a.levels = argv[++i]!.split(',');
    else if (v === '--long') a.long = true;
    else a.file = v;
  }
  if (!a.file) throw new Error('usage: zstd-decode <file> [--node22 <node>] [--runs N] [--levels -3,-19] [--long]');
  return a;
}

/** Compresses once; `--long=27` reads stdin so the frame keeps the full 128 MiB window (no content size). */
function compressed(file: string, level: string): string {
  const out = `${file}.${level.replace(/[^a-z0-9=-]/gi, '')}.zst`;
  if (existsSync(out) && statSync(out).mtimeMs > statSync(file).mtimeMs) return out;
  if (level.includes('long')) {
    execFileSync('sh', ['-c', `zstd -q -3 -T2 ${level} -c < "${file}" > "${out}"`]);
  } else {
    execFileSync('zstd', ['-q', '-f', '-T2', level, file, '-o', out]);
  }
  return out;
}

function ours(zst: Buffer): { ms: number; cpuMs: number; bytes: number } {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const d = new ZstdDecoder();
  let bytes = 0;
  const count = (items: ReturnType<ZstdDecoder['push']>) => {
    for (const it of items) if (!isDecoderPoint(it)) bytes += it.length;
  };
  for (let at = 0; at < zst.length; at += 1 << 20) count(d.push(zst.subarray(at, at + (1 << 20))));
  count(d.finish());
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000, bytes };
}

function timed(cmd: string): number {
  const started = performance.now();
  const r = spawnSync('sh', ['-c', cmd], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} failed`);
  return performance.now() - started;
}

const NATIVE = `
const fs = require('fs'), zlib = require('zlib');
const t = performance.now(); let n = 0;
fs.createReadStream(process.argv[2], { highWaterMark: 1 << 20 }).pipe(zlib.createZstdDecompress({ chunkSize: 1 << 20 }))
  .on('data', (d) => { n += d.length; }).on('end', () => console.log(JSON.stringify({ ms: performance.now() - t, bytes: n })));
`;

/** The JSON size of a point inside the frame, taken once half the output has gone by. */
function pointSize(zst: Buffer, total: number): { bytes: number; history: number; at: number } | null {
  const d = new ZstdDecoder();
  let produced = 0;
  for (let at = 0; at < zst.length; at += 1 << 16) {
    if (produced >= total / 2) d.requestCheckpoint();
    for (const it of d.push(zst.subarray(at, at + (1 << 16)))) {
      if (!isDecoderPoint(it)) {
        produced += it.length;
        continue;
      }
      const state = it.state as { phase: string; block: { history: string } | null };
      if (state.phase !== 'block') continue;
      return { bytes: JSON.stringify(it).length, history: Buffer.from(state.block!.history, 'base64').length, at: it.uncompressedOffset };
    }
  }
  return null;
}

const mbs = (bytes: number, ms: number) => (bytes / 1048576 / (ms / 1000)).toFixed(0);
const best = (xs: number[]) => Math.min(...xs);

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const size = statSync(args.file).size;
  const levels = args.long ? [...args.levels, '--long=27'] : args.levels;
  const rows: string[] = ['| level | compressed | ours MB/s (wall, CPU) | zstd -d MB/s | Node 22 native MB/s | point JSON mid-frame |', '|---|---|---|---|---|---|'];
  for (const level of levels) {
    const path = compressed(args.file, level);
    const zst = readFileSync(path);
    const runs = Array.from({ length: args.runs }, () => ours(zst));
    if (runs[0]!.bytes !== size) throw new Error(`decoded ${runs[0]!.bytes} bytes of ${size}`);
    const zstdMs = best(Array.from({ length: args.runs }, () => timed(`zstd -q -d -c "${path}" > /dev/null`)));
    let native = 'n/a';
    if (args.node22) {
      const script = `${path}.native.js`;
      writeFileSync(script, NATIVE);
      const ms = best(Array.from({ length: args.runs }, () => (JSON.parse(execFileSync(args.node22!, [script, path]).toString()) as { ms: number }).ms));
      native = mbs(size, ms);
    }
    const point = pointSize(zst, size);
    rows.push(
      `| ${level} | ${(zst.length / 1048576).toFixed(1)} MiB | ${mbs(size, best(runs.map((r) => r.ms)))}, ${mbs(size, best(runs.map((r) => r.cpuMs)))} | ` +
        `${mbs(size, zstdMs)} | ${native} | ${point ? `${(point.bytes / 1048576).toFixed(2)} MiB (history ${(point.history / 1048576).toFixed(2)} MiB at ${(point.at / 1048576).toFixed(0)} MiB)` : 'n/a'} |`,
    );
    process.stdout.write(rows[rows.length - 1] + '\n');
  }
  process.stdout.write(`\n${(size / 1048576).toFixed(0)} MiB input, best of ${args.runs}\n\n${rows.join('\n')}\n`);
}

main();
