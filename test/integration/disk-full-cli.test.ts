// The CLI on a destination that fills up mid-extraction (an 8 MiB tmpfs, half taken by another program's
// file): the job pauses as disk-full, says on which path it waits and how much it needs, keeps polling, and
// once the file is deleted it continues from its last checkpoint and finishes with GNU tar's tree.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultServer } from '../../harness/fault-server';
import { assertTreesEqual } from '../helpers/archives';
import { cliPath, FAST_CLI, makeFixture, suiteDir, type Fixture } from './harness';

const MiB = 1024 * 1024;
const work = suiteDir('disk-full-cli');
after(() => rmSync(work, { recursive: true, force: true }));

function cannotMountTmpfs(): string | false {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const probe = mkdtempSync(join(tmpdir(), 'sm-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return false;
  } catch {
    return 'cannot mount a tmpfs here';
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

interface Running {
  stdout: () => string;
  stderr: () => string;
  /** Resolves once the output so far matches. */
  until: (stream: 'stdout' | 'stderr', re: RegExp, ms: number) => Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive: () => boolean;
  kill: () => void;
  signal: (sig: NodeJS.Signals) => void;
}

function startCli(args: string[]): Running {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  let done = false;
  child.stdout.on('data', (d) => (out.stdout += String(d)));
  child.stderr.on('data', (d) => (out.stderr += String(d)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  return {
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    exited,
    alive: () => !done,
    kill: () => child.kill('SIGKILL'),
    signal: (sig) => child.kill(sig),
    until: async (stream, re, ms) => {
      const deadline = Date.now() + ms;
      while (!re.test(out[stream])) {
        if (done) throw new Error(`the CLI exited before ${re}:\n${out.stderr}\n${out.stdout.slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`no ${re} within ${ms} ms:\n${out.stderr}\n${out.stdout.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** An 8 MiB tmpfs with a 4 MiB filler file on it, and a ~6 MiB incompressible .tar.gz served by the fault server. */
async function fullDisk(label: string, run: (f: { fixture: Fixture; url: string; small: string; filler: string; server: FaultServer }) => Promise<void>): Promise<void> {
  const dir = join(work, label);
  const small = join(dir, 'small');
  mkdirSync(small, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', small]);
  const server = await FaultServer.start();
  try {
    const fixture = await makeFixture(dir, 'snap', 'tar.gz', { seed: 18, bytes: 6 * MiB, incompressible: 1, maxFileBytes: MiB });
    const filler = join(small, 'filler.bin');
    writeFileSync(filler, Buffer.alloc(4 * MiB, 1));
    const url = await server.serve('/snap.tar.gz', { file: fixture.archive });
    await run({ fixture, url, small, filler, server });
  } finally {
    await server.close();
    execFileSync('umount', [small], { stdio: 'ignore' });
  }
}

test('CLI: a full destination pauses as disk-full, says where and how much it waits for, and continues once space is freed', {
  skip: cannotMountTmpfs(),
  timeout: 90_000,
}, async () => {
  await fullDisk('text', async ({ fixture, url, small, filler, server }) => {
    const dest = join(small, 'node');
    const cli = startCli(['get', url, '--dest', dest, '--state-dir', join(work, 'text', 'state'), ...FAST_CLI]);
    try {
      await cli.until('stderr', /Waiting for space on .*are free now/, 40_000);
      const line = cli
        .stderr()
        .split('\n')
        .find((l) => l.startsWith('Waiting for space on'))!;
      assert.match(
        line,
        new RegExp(`^Waiting for space on ${dest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: it needs \\d+(\\.\\d+)? [KM]iB free, \\d+(\\.\\d+)? [KM]iB are free now\\.`),
      );
      assert.match(cli.stderr(), /paused \(disk-full\): The disk is full while writing /);
      assert.doesNotMatch(cli.stderr(), /error E_DISK_FULL/);
      // It waits, polling: still there after more than one check.
      await new Promise((r) => setTimeout(r, 4_500));
      assert.ok(cli.alive(), `the CLI gave up instead of waiting:\n${cli.stderr()}`);

      rmSync(filler);
      const { code } = await cli.exited;
      assert.equal(code, 0, cli.stderr());
      assert.match(cli.stderr(), /Space is free again: continuing from the last checkpoint/);
      assert.match(cli.stderr(), /^done: /m);
      assertTreesEqual(fixture.reference, dest);
      // Continued, not started over: at most the window and a checkpoint's worth came again.
      assert.ok(server.bodyBytesServed('/snap.tar.gz') < fixture.size * 1.5, `served ${server.bodyBytesServed('/snap.tar.gz')} for ${fixture.size}`);
    } finally {
      if (cli.alive()) cli.kill();
    }
  });
});

test('CLI --json: a full destination is a job-state paused/disk-full line and a WAITING_FOR_SPACE warning, not an error; Ctrl-C while waiting exits 3 and the same get resumes', {
  skip: cannotMountTmpfs(),
  timeout: 90_000,
}, async () => {
  await fullDisk('json', async ({ fixture, url, small, filler }) => {
    const dest = join(small, 'node');
    const args = ['get', url, '--dest', dest, '--state-dir', join(work, 'json', 'state'), ...FAST_CLI, '--json'];
    const first = startCli(args);
    try {
      await first.until('stdout', /"WAITING_FOR_SPACE"/, 40_000);
      const lines = first
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(lines.filter((l) => l.type === 'error').length, 0);
      const paused = lines.find((l) => l.type === 'job-state' && l.state === 'paused' && l.reason === 'disk-full');
      assert.ok(paused, first.stdout());
      assert.equal((paused.error as { code: string }).code, 'E_DISK_FULL');
      const waiting = lines.find((l) => l.code === 'WAITING_FOR_SPACE')!;
      assert.equal(waiting.path, dest);
      assert.ok(Number(waiting.bytesNeeded) > Number(waiting.bytesFree));
    } finally {
      // Ctrl-C while it waits for space: interrupted, state kept.
      if (first.alive()) first.signal('SIGINT');
    }
    const stopped = await first.exited;
    assert.equal(stopped.code, 3, first.stdout().slice(-1000));
    const last = JSON.parse(first.stdout().trim().split('\n').pop()!) as Record<string, unknown>;
    assert.equal(last.type, 'error');
    assert.equal(last.code, 'E_ABORTED');

    rmSync(filler);
    const again = startCli(args);
    const { code } = await again.exited;
    assert.equal(code, 0, again.stdout().slice(-2000) + again.stderr());
    assert.match(again.stdout(), /"code":"RESUMED"/);
    assertTreesEqual(fixture.reference, dest);
  });
});
