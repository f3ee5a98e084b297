// `get --manifest` as an operator runs it: BNB Chain's CSV shape (filename,url,md5,size) served over HTTP,
// parts of different formats extracted in order into one folder (the lz4 part in 64 KiB blocks, so that a
// checkpoint falls inside every chunk of this small test); a kill -9 mid-part resumes that part (the
// parts before it are not fetched again); a part that answers 404 stops the job naming the part, state kept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultServer } from '../../harness/fault-server';
import { cliPath } from './harness';

let server: FaultServer;
let dir: string;
const archives: Record<string, Buffer> = {};
const contents: Record<string, Buffer> = {};

before(async () => {
  server = await FaultServer.start({ writeSize: 64 * 1024 });
  dir = mkdtempSync(join(tmpdir(), 'manifest-cli-'));
  const make = (name: string, pack: (src: string) => Buffer, bytes: number) => {
    const src = join(dir, `src-${name}`);
    mkdirSync(join(src, name), { recursive: true });
    const content = randomBytes(bytes);
    writeFileSync(join(src, name, 'blob.bin'), content);
    contents[`${name}/blob.bin`] = content;
    archives[`${name}${name === 'p1' ? '.tar.gz' : name === 'p2' ? '.tar.lz4' : '.tar'}`] = pack(src);
  };
  make('p1', (src) => execFileSync('tar', ['-czf', '-', '-C', src, '.'], { maxBuffer: 1 << 27 }), 2_000_000);
  make('p2', (src) => execFileSync('sh', ['-c', `tar -cf - -C '${src}' . | lz4 -q -B4 -c`], { maxBuffer: 1 << 27 }), 6_000_000);
  make('p3', (src) => execFileSync('tar', ['-cf', '-', '-C', src, '.'], { maxBuffer: 1 << 27 }), 1_000_000);
  for (const [name, bytes] of Object.entries(archives)) await server.serve(`/bsc/${name}`, bytes);
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

function bscCsv(overrides: Record<string, string> = {}): string {
  const rows = Object.entries(archives).map(([name, bytes]) => `${name},${overrides[name] ?? server.url(`/bsc/${name}`)},${md5(bytes)},${bytes.length}`);
  return ['filename,url,md5,size', ...rows].join('\n');
}

interface Run {
  code: number | null;
  lines: Array<Record<string, unknown>>;
  killed: boolean;
}

function get(args: string[], killWhen?: (e: Record<string, unknown>) => boolean): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, 'get', ...args, '--json', '--chunk-size', '256K', '--window', '2', '--concurrency', '2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Array<Record<string, unknown>> = [];
    let buffered = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.trim()) continue;
        const e = JSON.parse(line) as Record<string, unknown>;
        lines.push(e);
        if (!killed && killWhen?.(e)) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.stderr.on('data', () => undefined);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, lines, killed });
    });
  });
}

function assertExtracted(dest: string): void {
  for (const [path, content] of Object.entries(contents)) assert.ok(readFileSync(join(dest, path)).equals(content), `${path} is intact`);
}

test('get --manifest: a BNB-style CSV of three parts (.tar.gz, .tar.lz4, .tar) from a URL, MD5 verified, into one folder; a re-run fetches nothing', async () => {
  await server.serve('/bsc/parts.csv', Buffer.from(bscCsv()));
  const dest = join(dir, 'dest-ok');
  const r = await get(['--manifest', server.url('/bsc/parts.csv'), '--dest', dest, '--state-dir', join(dir, 'state-ok')]);
  assert.equal(r.code, 0, JSON.stringify(r.lines.at(-1)));
  assertExtracted(dest);
  const started = r.lines.filter((e) => e.type === 'part' && e.state === 'started').map((e) => e.index);
  assert.deepEqual(started, [0, 1, 2], 'in order');
  const before = server.requests.length;
  const again = await get(['--manifest', server.url('/bsc/parts.csv'), '--dest', dest, '--state-dir', join(dir, 'state-ok')]);
  assert.equal(again.code, 0);
  assert.deepEqual(
    again.lines.filter((e) => e.type === 'part').map((e) => e.state),
    ['skipped', 'skipped', 'skipped'],
  );
  assert.equal(server.requests.slice(before).filter((q) => /^\/bsc\/p\d/.test(q.path)).length, 0, 'no part fetched again');
});

test('get --manifest: kill -9 in the middle of part 2, then the same command: part 1 is not fetched again, part 2 resumes, the tree is whole', async () => {
  const manifest = join(dir, 'parts-kill.csv');
  writeFileSync(manifest, bscCsv());
  const dest = join(dir, 'dest-kill');
  const stateDir = join(dir, 'state-kill');
  const args = ['--manifest', manifest, '--dest', dest, '--state-dir', stateDir, '--limit-rate', '4M'];
  let partNow = -1;
  const first = await get(args, (e) => {
    if (e.type === 'part' && e.state === 'started') partNow = e.index as number;
    return partNow === 1 && e.type === 'progress' && (e.bytesCommitted as number) > 1_500_000;
  });
  assert.ok(first.killed, 'killed mid-part');
  const before = server.requests.length;
  const second = await get(args);
  assert.equal(second.code, 0, JSON.stringify(second.lines.at(-1)));
  assertExtracted(dest);
  const asked = server.requests.slice(before);
  assert.equal(asked.filter((q) => q.path === '/bsc/p1.tar.gz' && q.range).length, 0, 'part 1 is done and skipped');
  const p2Bytes = asked.filter((q) => q.path === '/bsc/p2.tar.lz4').reduce((n, q) => n + q.bytesSent, 0);
  assert.ok(p2Bytes < archives['p2.tar.lz4']!.length, `part 2 resumed (${p2Bytes} of ${archives['p2.tar.lz4']!.length} bytes fetched again)`);
  console.log(`# manifest kill -9 mid-part 2: the restart fetched part 1 0 bytes, part 2 ${p2Bytes} of ${archives['p2.tar.lz4']!.length} bytes`);
  assert.ok(
    second.lines.some((e) => e.type === 'warning' && e.code === 'RESUMED'),
    'and says so',
  );
});

test('get --manifest: a part that answers 404 fails the job naming the part; the parts before it stay, and its state is kept', async () => {
  const manifest = join(dir, 'parts-404.csv');
  writeFileSync(manifest, bscCsv({ 'p2.tar.lz4': server.url('/bsc/missing.tar.lz4') }));
  const dest = join(dir, 'dest-404');
  const stateDir = join(dir, 'state-404');
  const r = await get(['--manifest', manifest, '--dest', dest, '--state-dir', stateDir, '--retries', '0']);
  assert.equal(r.code, 1);
  const error = r.lines.at(-1)!;
  assert.equal(error.type, 'error');
  assert.match(String(error.message), /^part 2 of 3 \(p2\.tar\.lz4\): .*404/, JSON.stringify(error));
  assert.ok(readFileSync(join(dest, 'p1/blob.bin')).equals(contents['p1/blob.bin']!), 'part 1 stays');
  assert.ok(existsSync(join(stateDir, 'parts.json')), 'the record of finished parts is kept');
  assert.ok(!existsSync(join(dest, 'p3')), 'part 3 was never started');
});

test('get --manifest refuses what does not fit a manifest: a URL of its own, --output, a single-file checksum', async () => {
  const manifest = join(dir, 'parts-usage.csv');
  writeFileSync(manifest, bscCsv());
  for (const args of [
    ['https://example.org/x.tar', '--manifest', manifest, '--dest', join(dir, 'u1')],
    ['--manifest', manifest, '--output', join(dir, 'u2')],
    ['--manifest', manifest, '--dest', join(dir, 'u3'), '--md5', 'd41d8cd98f00b204e9800998ecf8427e'],
  ]) {
    const r = await get(args);
    assert.equal(r.code, 2, args.join(' '));
  }
});
