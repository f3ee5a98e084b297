// A snapshot in three parts of three formats (.tar.gz, .tar, .tar.lz4 by the real tools) from one origin,
// extracted in order into one folder; a restart skips finished parts; a wrong checksum names the part and
// keeps the parts before it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultServer } from '../../harness/fault-server';
import { PartsJob, type PartEvent } from '../../electron/engine/parts/parts-job';
import { parseManifest } from '../../electron/engine/parts/manifest';
import { IntegrityError } from '../../electron/engine/errors';
import { FAST } from './harness';
import { startNginx } from '../../harness/nginx';

let server: FaultServer;
let dir: string;
const files: Record<string, Buffer> = {};
const archives: Record<string, Buffer> = {};

before(async () => {
  server = await FaultServer.start();
  dir = mkdtempSync(join(tmpdir(), 'parts-'));
  const make = (name: string, args: (tarFile: string, src: string) => Buffer) => {
    const src = join(dir, `src-${name}`);
    mkdirSync(join(src, `data-${name}`), { recursive: true });
    const content = randomBytes(400_000 + Math.floor(Math.random() * 1000));
    writeFileSync(join(src, `data-${name}`, 'blob.bin'), content);
    files[`data-${name}/blob.bin`] = content;
    return args(join(dir, `${name}.tar`), src);
  };
  archives['p1.tar.gz'] = make('p1', (_t, src) => execFileSync('tar', ['-czf', '-', '-C', src, '.'], { maxBuffer: 1 << 26 }));
  archives['p2.tar'] = make('p2', (_t, src) => execFileSync('tar', ['-cf', '-', '-C', src, '.'], { maxBuffer: 1 << 26 }));
  archives['p3.tar.lz4'] = make('p3', (tarFile, src) => {
    execFileSync('tar', ['-cf', tarFile, '-C', src, '.']);
    return execFileSync('lz4', ['-q', '-c', tarFile], { maxBuffer: 1 << 26 });
  });
  for (const [name, bytes] of Object.entries(archives)) await server.serve(`/snap/${name}`, bytes);
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function csv(wrong?: string): string {
  const rows = Object.entries(archives).map(([name, bytes]) => `${name},${name},${name === wrong ? 'f'.repeat(64) : sha(bytes)},${bytes.length}`);
  return ['filename,url,sha256,size', ...rows].join('\n');
}

async function run(dest: string, stateDir: string, text: string) {
  const parts = parseManifest(text, { base: server.url('/snap/manifest.csv') });
  const job = new PartsJob({ parts, dest, stateDir, common: { ...FAST } });
  const events: PartEvent[] = [];
  job.on('event', (e: PartEvent) => events.push(e));
  try {
    return { summary: await job.run(), error: null, events };
  } catch (err) {
    return { summary: null, error: err as Error, events };
  }
}

function assertExtracted(dest: string, names: string[]): void {
  for (const n of names) assert.ok(readFileSync(join(dest, n)).equals(files[n]!), `${n} extracted whole`);
}

test('three parts (.tar.gz, .tar, .tar.lz4) extract in order into one folder, verified; a re-run skips them all', async () => {
  const dest = join(dir, 'dest-ok');
  const stateDir = join(dir, 'state-ok');
  const first = await run(dest, stateDir, csv());
  assert.equal(first.error, null, first.error?.message);
  assert.deepEqual(
    first.summary!.parts.map((p) => [p.skipped, p.summary.format]),
    [
      [false, 'gzip'],
      [false, 'tar'],
      [false, 'lz4'],
    ],
  );
  assertExtracted(dest, Object.keys(files));
  assert.deepEqual(readdirSync(dest).sort(), ['data-p1', 'data-p2', 'data-p3']);
  assert.deepEqual(
    readdirSync(stateDir).filter((n) => n.startsWith('part-')),
    [],
    'each finished part removed its own state',
  );
  const fetched = server.bodyBytesServed();
  const again = await run(dest, stateDir, csv());
  assert.equal(again.error, null);
  assert.ok(again.summary!.parts.every((p) => p.skipped));
  assert.equal(server.bodyBytesServed(), fetched, 'nothing fetched again');
});

test('a wrong checksum on the second part is exit 4 naming it; the first part stays, the third is not started; fixed, a re-run does parts 2 and 3 only', async () => {
  const dest = join(dir, 'dest-bad');
  const stateDir = join(dir, 'state-bad');
  const bad = await run(dest, stateDir, csv('p2.tar'));
  assert.ok(bad.error instanceof IntegrityError, bad.error?.message);
  assert.match(bad.error!.message, /^part 2 of 3 \(p2\.tar\): SHA-256 mismatch/);
  assert.equal((bad.error as IntegrityError).details.part, 1);
  assertExtracted(dest, ['data-p1/blob.bin']);
  assert.ok(!bad.events.some((e) => e.type === 'part' && e.index === 2), 'part 3 never started');
  const before = server.requestsFor('/snap/p1.tar.gz', 'GET').length;
  const fixed = await run(dest, stateDir, csv());
  assert.equal(fixed.error, null, fixed.error?.message);
  assert.deepEqual(
    fixed.summary!.parts.map((p) => p.skipped),
    [true, false, false],
  );
  assert.equal(server.requestsFor('/snap/p1.tar.gz', 'GET').length, before, 'part 1 is not fetched again');
  assertExtracted(dest, Object.keys(files));
});

test('a wrong MD5 on a part is exit 4 naming it', async () => {
  const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
  const text = ['url,md5', ...Object.entries(archives).map(([n, b]) => `${n},${n === 'p3.tar.lz4' ? '0'.repeat(32) : md5(b)}`)].join('\n');
  const r = await run(join(dir, 'dest-md5'), join(dir, 'state-md5'), text);
  assert.ok(r.error instanceof IntegrityError);
  assert.match(r.error!.message, /^part 3 of 3 \(p3\.tar\.lz4\): MD5 mismatch/);
});

test('the three parts from nginx (real ranges, 64 KiB chunks): a CSV manifest with MD5s, each part verified in the same pass, the tree whole', async () => {
  const root = join(dir, 'nginx-root');
  mkdirSync(join(root, 'snap'), { recursive: true });
  for (const [name, bytes] of Object.entries(archives)) writeFileSync(join(root, 'snap', name), bytes);
  const nginx = await startNginx({ root });
  try {
    const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
    const text = ['filename,url,md5,size', ...Object.entries(archives).map(([n, b]) => `${n},${n},${md5(b)},${b.length}`)].join('\n');
    const parts = parseManifest(text, { base: nginx.url('/snap/manifest.csv') });
    const job = new PartsJob({ parts, dest: join(dir, 'dest-nginx'), stateDir: join(dir, 'state-nginx'), common: { ...FAST, chunkSize: 64 * 1024 } });
    const summary = await job.run();
    assert.deepEqual(
      summary.parts.map((p) => p.summary.format),
      ['gzip', 'tar', 'lz4'],
    );
    assertExtracted(join(dir, 'dest-nginx'), Object.keys(files));
    const ranged = nginx.accessLog().filter((l) => / 206 /.test(l));
    assert.ok(ranged.length >= 3 * 6, `every part came in ranges (${ranged.length} 206 answers)`);
  } finally {
    await nginx.stop();
  }
});
