import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGetArgs } from '../../electron/cli';
import { Job } from '../../electron/engine/job/job';

const cli = join(__dirname, '..', '..', 'electron', 'cli.js');

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('get parses sizes, durations and flags into job options', () => {
  const { options, json } = parseGetArgs([
    'https://example.org/s.tar.gz',
    '--dest',
    '/tmp/x',
    '--chunk-size',
    '16M',
    '--window',
    '6',
    '--concurrency',
    '3',
    '--idle-timeout',
    '500ms',
    '--limit-rate',
    '2M',
    '--json',
  ]);
  assert.equal(json, true);
  assert.equal(options.chunkSize, 16 * 1024 * 1024);
  assert.equal(options.window, 6);
  assert.equal(options.concurrency, 3);
  assert.equal(options.idleTimeoutMs, 500);
  assert.equal(options.limitRate, 2 * 1024 * 1024);
  assert.match(options.stateDir, /\.x\.snapshot-manager$/);
  assert.equal(options.checkpoints, undefined, 'checkpoints stay on unless turned off');
  assert.equal(parseGetArgs(['https://example.org/s.tar.gz', '--dest', '/tmp/x', '--no-checkpoints']).options.checkpoints, false);
  assert.equal(parseGetArgs(['https://example.org/s.tar.zst', '--dest', '/tmp/x', '--zstd-max-window', '1G']).options.zstdMaxWindow, 1024 ** 3);
});

const usageCases: Array<[string, string[], RegExp]> = [
  ['malformed URL', ['get', 'not a url', '--dest', 'D'], /not a valid URL/],
  ['unsupported scheme', ['get', 'ftp://example.org/s.tar', '--dest', 'D'], /Unsupported scheme/],
  ['no destination', ['get', 'http://127.0.0.1:9/s.tar'], /--dest <folder>/],
  ['both destinations', ['get', 'http://127.0.0.1:9/s.tar', '--dest', 'D', '--output', 'F'], /exactly one of --dest/],
  ['bad size suffix', ['get', 'http://127.0.0.1:9/s.tar', '--dest', 'D', '--chunk-size', '12Q'], /--chunk-size/],
  ['window below 1', ['get', 'http://127.0.0.1:9/s.tar', '--dest', 'D', '--window', '0'], /--window/],
  ['concurrency above window', ['get', 'http://127.0.0.1:9/s.tar', '--dest', 'D', '--window', '2', '--concurrency', '3'], /cannot exceed --window/],
  ['unknown option', ['get', 'http://127.0.0.1:9/s.tar', '--dest', 'D', '--frobnicate'], /Unknown option/],
  ['bad sha256', ['get', 'http://127.0.0.1:9/s.tar', '--dest', 'D', '--sha256', 'abc'], /64 hexadecimal/],
  ['format with output', ['get', 'http://127.0.0.1:9/s.tar', '--output', 'F', '--format', 'gzip'], /--format applies to extraction/],
  ['bad format', ['get', 'http://127.0.0.1:9/s.tar', '--dest', 'D', '--format', 'rar'], /--format must be one of/],
  ['zstd window below 1K', ['get', 'http://127.0.0.1:9/s.tar', '--dest', 'D', '--zstd-max-window', '512'], /--zstd-max-window must be from 1K/],
  ['zstd window past 2 GiB', ['get', 'http://127.0.0.1:9/s.tar', '--dest', 'D', '--zstd-max-window', '3G'], /--zstd-max-window must be from 1K .* to 2047\.75M/],
  ['zstd window with output', ['get', 'http://127.0.0.1:9/s.tar', '--output', 'F', '--zstd-max-window', '256M'], /--zstd-max-window applies to extraction/],
  ['bad idle timeout', ['get', 'http://127.0.0.1:9/s.tar', '--dest', 'D', '--idle-timeout', 'soon'], /--idle-timeout/],
];

for (const [name, args, message] of usageCases) {
  test(`CLI bad input exits 2 and says what to do: ${name}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-cli-'));
    try {
      const r = run(args.map((a) => (a === 'D' ? join(dir, 'dest') : a === 'F' ? join(dir, 'out.bin') : a)));
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /E_USAGE/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('CLI --json reports a usage error as the last line', () => {
  const r = run(['get', 'nope', '--dest', '/tmp/none', '--json']);
  assert.equal(r.code, 2);
  const last = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(last.type, 'error');
  assert.equal(last.code, 'E_USAGE');
  assert.ok(Array.isArray(last.causes));
});

test("a non-empty destination that is not the job's is refused (exit 2) and left untouched", () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-cli-'));
  try {
    const dest = join(dir, 'dest');
    mkdirSync(dest);
    writeFileSync(join(dest, 'keep.txt'), 'precious');
    const r = run(['get', 'http://127.0.0.1:9/s.tar', '--dest', dest]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /E_DEST_NOT_EMPTY/);
    assert.match(r.stderr, /--force/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unwritable destination is refused with exit 2', { skip: process.getuid?.() === 0 ? 'root can write anywhere' : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-cli-'));
  try {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    const r = run(['get', 'http://127.0.0.1:9/s.tar', '--dest', join(ro, 'dest')]);
    assert.equal(r.code, 2, r.stderr);
  } finally {
    chmodSync(join(dir, 'ro'), 0o700);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a destination that cannot be created (under a file) is refused with exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-cli-'));
  try {
    writeFileSync(join(dir, 'file'), 'x');
    const r = run(['get', 'http://127.0.0.1:9/s.tar', '--dest', join(dir, 'file', 'dest'), '--state-dir', join(dir, 'state')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /E_DEST_NOT_WRITABLE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a destination that is a file is refused with exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-cli-'));
  try {
    writeFileSync(join(dir, 'file'), 'x');
    const r = run(['get', 'http://127.0.0.1:9/s.tar', '--dest', join(dir, 'file')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /not a folder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('options are validated when the job is created, before any I/O', () => {
  assert.throws(() => new Job({ url: 'http://x/y', dest: '/tmp/a', stateDir: '/tmp/s', window: 2, concurrency: 5 }), /cannot exceed --window/);
});
