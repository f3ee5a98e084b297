// A bounded fuzz run: mutated archives from a seed corpus, fixed seed. Whatever the bytes, the extractor
// must finish in time with success or a coded archive error, never write outside the destination, and
// never throw past its promise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { extractBuffer, listTree } from '../hostile/harness';
import { paxHeader, tarArchive, tarMember } from '../hostile/tar-builder';
import { lz4Compress } from '../helpers/lz4';
import { zstdStdin } from '../unit/zstd-fixtures';

const CASES = Number(process.env.FUZZ_CASES ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261124);
const PER_CASE_TIMEOUT_MS = 10_000;
const ARCHIVE_CODES = new Set([
  'E_NOT_AN_ARCHIVE',
  'E_FORMAT_UNSUPPORTED',
  'E_WINDOW_TOO_LARGE',
  'E_ARCHIVE_TRUNCATED',
  'E_ARCHIVE_CORRUPT',
  'E_TRAILING_GARBAGE',
  'E_LIMIT_EXCEEDED',
  'E_DISK_FULL',
]);

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function corpus(): Buffer[] {
  const plain = tarArchive([
    { name: 'dir/', type: '5' },
    { name: 'dir/a.txt', data: 'alpha\n' },
    { name: 'dir/b.bin', data: Buffer.alloc(1500, 0x42) },
    { name: 'link', type: '2', linkname: 'dir/a.txt' },
    { name: 'hard', type: '1', linkname: 'dir/a.txt' },
    { name: 'empty', data: '' },
  ]);
  const pax = tarArchive([
    paxHeader({ path: 'pax/' + 'long-'.repeat(40) + 'name', mtime: '1700000000.5' }),
    { name: 'placeholder', data: 'pax named\n' },
    paxHeader({ linkpath: 'pax/' + 'long-'.repeat(40) + 'name' }),
    { name: 'pax-link', type: '2', linkname: 'x' },
  ]);
  const gnuLong = tarArchive([
    tarMember({ name: '././@LongLink', type: 'L', data: 'gnu/' + 'n'.repeat(150) + '\0', magic: 'gnu' }),
    { name: 'short', data: 'long gnu name\n', magic: 'gnu' },
  ]);
  const hostile = tarArchive([
    { name: '../escape', data: 'x' },
    { name: '/abs', data: 'x' },
    { name: 'up', type: '2', linkname: '../outside' },
    { name: 'up/through', data: 'x' },
    { name: 'h', type: '1', linkname: '../outside/x' },
    { name: 'fifo', type: '6' },
  ]);
  return [plain, pax, gnuLong, hostile, zlib.gzipSync(plain), zlib.gzipSync(pax), ...lz4Seeds(plain, pax), ...zstdSeeds(plain, pax)];
}

let lz4Cache: Buffer[] | null = null;
/** lz4 seeds: independent and linked blocks with block checksums, and a legacy frame (made once: lz4 is a process). */
function lz4Seeds(plain: Buffer, pax: Buffer): Buffer[] {
  lz4Cache ??= [lz4Compress(plain, ['-B4']), lz4Compress(pax, ['-B4', '-BD', '-BX', '--content-size']), lz4Compress(plain, ['-l'])];
  return lz4Cache;
}

let zstdCache: Buffer[] | null = null;
/** zstd seeds: one frame with its content checksum, and pzstd's skippable frames between frames. */
function zstdSeeds(plain: Buffer, pax: Buffer): Buffer[] {
  zstdCache ??= [zstdStdin('zstd', ['-q', '-3', '--check'], plain), zstdStdin('pzstd', ['-q', '-p', '2'], Buffer.concat([pax, plain]))];
  return zstdCache;
}

function mutate(seed: Buffer, rnd: () => number): Buffer {
  const pick = (n: number) => Math.floor(rnd() * n);
  let buf = Buffer.from(seed);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    switch (pick(9)) {
      case 0: // bit flips
        for (let i = 0, n = 1 + pick(8); i < n; i++) buf[pick(buf.length)]! ^= 1 << pick(8);
        break;
      case 1: // interesting bytes
        for (let i = 0, n = 1 + pick(4); i < n; i++) buf[pick(buf.length)] = [0, 0xff, 0x2f, 0x2e, 0x80, 0x30, 0x37, 0x20][pick(8)]!;
        break;
      case 2: // truncate
        buf = buf.subarray(0, pick(buf.length + 1));
        break;
      case 3: // duplicate a block
        if (buf.length >= 512) {
          const at = pick(buf.length / 512) * 512;
          buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at, at + 512), buf.subarray(at)]);
        }
        break;
      case 4: // insert random bytes
        {
          const at = pick(buf.length + 1);
          const ins = Buffer.from(Array.from({ length: 1 + pick(600) }, () => pick(256)));
          buf = Buffer.concat([buf.subarray(0, at), ins, buf.subarray(at)]);
        }
        break;
      case 5: // rewrite a header field in a tar block with a plausible but hostile value
        if (buf.length >= 512) {
          const block = pick(Math.floor(buf.length / 512)) * 512;
          const fields: Array<[number, number, string]> = [
            [0, 100, ['../x', '/etc/x', 'a/../../b', 'C:x', 'dir', 'dir/a.txt/x', 'link/y'][pick(7)]!],
            [124, 12, [pick(0o7777777).toString(8), '77777777777', '0', '-1'][pick(4)]!],
            [156, 1, '0123456789xgLKSVDZ'[pick(18)]!],
            [157, 100, ['../../etc', '/', 'dir', 'link', 'hard', '.'][pick(6)]!],
            [100, 8, ['4777', '7777', '0', '777'][pick(4)]!],
          ];
          const [off, len, value] = fields[pick(fields.length)]!;
          buf.fill(0, block + off, block + off + len);
          buf.write(value, block + off, len, 'latin1');
          if (pick(3) > 0) fixChecksum(buf, block);
        }
        break;
      case 6: // splice two seeds
        {
          const other = corpus()[pick(4)]!;
          const at = pick(buf.length / 512 + 1) * 512;
          buf = Buffer.concat([buf.subarray(0, at), other.subarray(pick(other.length / 512) * 512)]);
        }
        break;
      case 7: // recompress the mutated tar
        if (buf[0] !== 0x1f) buf = zlib.gzipSync(buf);
        break;
      default: {
        // drop a range
        const at = pick(buf.length + 1);
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1 + pick(1024))]);
      }
    }
  }
  return buf;
}

function fixChecksum(buf: Buffer, block: number): void {
  if (block + 512 > buf.length) return;
  buf.fill(0x20, block + 148, block + 156);
  let sum = 0;
  for (let i = block; i < block + 512; i++) sum += buf[i]!;
  buf.write(sum.toString(8).padStart(6, '0') + '\0 ', block + 148, 8, 'latin1');
}

test(`fuzz: ${CASES} mutated archives (seed ${SEED}): no hang, no write outside, only coded errors`, async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'sm-fuzz-'));
  const outside = join(base, 'outside');
  await mkdir(outside);
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);
  const rnd = mulberry32(SEED);
  const seeds = corpus();
  const counts = new Map<string, number>();
  let skippedTotal = 0;
  let slowest = 0;
  const started = Date.now();
  try {
    for (let i = 0; i < CASES; i++) {
      const input = mutate(seeds[Math.floor(rnd() * seeds.length)]!, rnd);
      const dest = join(base, `d${i}`);
      const caseStart = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        extractBuffer(input, dest, {}, i + 1),
        new Promise<'timeout'>((r) => {
          timer = setTimeout(() => r('timeout'), PER_CASE_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      slowest = Math.max(slowest, Date.now() - caseStart);
      assert.notEqual(outcome, 'timeout', `case ${i} hung (input ${input.length} bytes, head ${input.subarray(0, 16).toString('hex')})`);
      if (outcome === 'timeout') return;
      const key = outcome.error ? outcome.error.code : 'ok';
      if (outcome.error) {
        assert.ok(ARCHIVE_CODES.has(outcome.error.code), `case ${i}: unexpected ${outcome.error.code}: ${outcome.error.message}`);
        assert.equal(typeof outcome.error.details.offset, 'number', `case ${i}: ${outcome.error.code} without an offset`);
      } else {
        skippedTotal += outcome.result!.skipped.length;
      }
      counts.set(key, (counts.get(key) ?? 0) + 1);
      const stray = (await listTree(base)).filter((p) => !/^d\d+(\/|$)/.test(p) && p !== 'outside');
      assert.deepEqual(stray, [], `case ${i} wrote outside the destination`);
      assert.deepEqual(await readdir(outside), [], `case ${i} wrote into the outside folder`);
      await rm(dest, { recursive: true, force: true });
    }
  } finally {
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
    await rm(base, { recursive: true, force: true });
  }
  assert.deepEqual(unhandled, []);
  const summary = [...counts.entries()]
    .sort()
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  t.diagnostic(`fuzz: ${CASES} cases in ${Date.now() - started} ms, slowest ${slowest} ms; outcomes: ${summary}; skipped members in successful runs: ${skippedTotal}`);
  assert.ok((counts.get('ok') ?? 0) > CASES / 20, 'the mutations still leave a share of extractable archives');
});
