// The job lock tells a live holder from a dead one (a zombie, a reused pid), takes a stale lock over
// atomically (one winner among many claimants), and the target itself is locked across state folders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from '../../electron/engine/job/job';
import { JobLock } from '../../electron/engine/state/job-lock';
import { processState, selfIdentity } from '../../electron/engine/state/process-identity';
import { FaultServer, faultAlways, rangedGet } from '../../harness/fault-server';

const cli = join(__dirname, '..', '..', 'electron', 'cli.js');
const lockModule = join(__dirname, '..', '..', 'electron', 'engine', 'state', 'job-lock.js');
const linux = process.platform === 'linux' && existsSync('/proc/self/stat');

function run(args: string[], timeoutMs = 30_000): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    });
  });
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  const ok = () => {
    try {
      return check();
    } catch {
      return false;
    }
  };
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a restart right after kill -9 is refused with E_LOCKED while the killed holder is a zombie', { skip: !linux && 'needs /proc' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-zombie-'));
  const server = await FaultServer.start();
  let wrapper: ChildProcess | null = null;
  try {
    const body = randomBytes(300_000);
    const url = await server.serve('/raw.bin', body);
    server.setPlan(faultAlways(rangedGet(), { kind: 'trickle', bytes: 4_096, everyMs: 50 }));
    const out = join(dir, 'raw.bin');
    const stateDir = join(dir, 'state');
    const args = [cli, 'get', url, '--output', out, '--state-dir', stateDir, '--chunk-size', '100K', '--window', '2'];
    // The job runs under a parent that never reaps (sh exec's into sleep): once killed it stays a zombie,
    // as under a container's late or missing init.
    wrapper = spawn('sh', ['-c', '"$0" "$@" >/dev/null 2>&1 & echo $!; exec sleep 60', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = await new Promise<number>((resolve) => wrapper!.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    await until('the first run to hold the lock', () => readdirSync(stateDir, { withFileTypes: true }).some((e) => /^lock(-\d+)?$/.test(e.name)) && existsSync(out));
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    await until('the killed run to be a zombie', () => processState(pid) === 'Z', 2_000);
    server.setPlan(() => undefined);
    const startedIn = Date.now() - killedAt;
    assert.ok(startedIn < 500, `the restart starts within 0.5 s of the kill (${startedIn} ms)`);
    const restart = await run(args);
    assert.equal(restart.status, 0, restart.stderr);
    assert.ok(readFileSync(out).equals(body));
    assert.equal(processState(pid), 'Z', 'the holder was still an unreaped zombie when the restart ran');
  } finally {
    wrapper?.kill('SIGKILL');
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a lock whose pid now belongs to another program is taken over; the live holder itself is refused after a short wait', { skip: !linux && 'needs /proc' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-reuse-'));
  const other = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    await until('sleep to start', () => processState(other.pid!) !== null);
    const me = selfIdentity();
    const write = (startTime: number | null) =>
      writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: other.pid, host: hostname(), startedAt: Date.now(), token: 'x', startTime, bootId: me.bootId }));
    // The same pid, started at another time: the recorded holder is gone, the pid was reused.
    write(1);
    const lock = await JobLock.acquire(dir, { waitMs: 0 });
    await lock.release();
    // The holder as recorded (its real start time): alive, refused once the wait is over.
    const stat = readFileSync(`/proc/${other.pid}/stat`, 'utf8');
    write(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]));
    const t0 = Date.now();
    await assert.rejects(
      JobLock.acquire(dir, { waitMs: 400 }),
      (err: { code?: string; message: string }) => err.code === 'E_LOCKED' && err.message.includes(`process ${other.pid}`),
    );
    assert.ok(Date.now() - t0 >= 400, 'waited for the holder to exit before refusing');
  } finally {
    other.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stale lock is taken over with a race: many concurrent claimants, exactly one winner in each round', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-claim-'));
  const ROUNDS = 15;
  const CLAIMANTS = 8;
  // A pid that has certainly exited (reaped by spawnSync).
  const deadPid = spawnSync(process.execPath, ['-e', '0']).pid;
  const script = `
    const { JobLock } = require(process.argv[1]);
    const at = Number(process.argv[3]);
    while (Date.now() < at) {}
    JobLock.acquire(process.argv[2], { waitMs: 0 }).then(
      // The winner holds the lock until every claimant has answered (a late starter must not find it free).
      async (lock) => { process.stdout.write('won\\n'); process.stdin.resume(); process.stdin.on('end', () => lock.release()); },
      (err) => process.stdout.write('lost ' + err.code + '\\n'),
    );`;
  try {
    const tally: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const stateDir = join(dir, `r${round}`);
      mkdirSync(stateDir);
      writeFileSync(join(stateDir, 'lock'), JSON.stringify({ pid: deadPid, host: hostname(), startedAt: Date.now() - 60_000 }));
      const at = Date.now() + 900;
      const answers = await Promise.all(
        Array.from(
          { length: CLAIMANTS },
          () =>
            new Promise<{ child: ChildProcess; answer: string }>((resolve) => {
              const child = spawn(process.execPath, ['-e', script, lockModule, stateDir, String(at)], { stdio: ['pipe', 'pipe', 'inherit'] });
              let text = '';
              child.stdout!.on('data', (d) => {
                text += d;
                if (text.includes('\n')) resolve({ child, answer: text.trim() });
              });
              child.on('close', () => resolve({ child, answer: text.trim() }));
            }),
        ),
      );
      for (const { child } of answers) child.stdin!.end();
      await Promise.all(answers.map(({ child }) => new Promise((r) => (child.exitCode !== null ? r(null) : child.on('close', r)))));
      const outputs = answers.map((a) => a.answer);
      tally.push(outputs.filter((o) => o === 'won').length);
      assert.ok(
        outputs.every((o) => o === 'won' || o === 'lost E_LOCKED'),
        outputs.join(' | '),
      );
    }
    assert.deepEqual(tally, Array(ROUNDS).fill(1), `winners per round: ${tally.join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the destination itself has no lock: a second job with another state folder is refused, naming the first', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-destlock-'));
  const server = await FaultServer.start();
  try {
    // Long enough (about 6 s) to outlast the second job's wait for the holder.
    const body = randomBytes(1_000_000);
    const url = await server.serve('/raw.bin', body);
    server.setPlan(faultAlways(rangedGet(), { kind: 'trickle', bytes: 4_096, everyMs: 50 }));
    const out = join(dir, 'raw.bin');
    const first = new Job({ url, output: out, stateDir: join(dir, 'state-a'), chunkSize: 100_000, window: 2, concurrency: 2 });
    const firstRun = first.run();
    await until('the first job to write', () => existsSync(out));
    const second = new Job({ url, output: out, stateDir: join(dir, 'state-b'), chunkSize: 100_000, window: 2, concurrency: 2, force: true });
    await assert.rejects(second.run(), (err: { code?: string; message: string }) => {
      assert.equal(err.code, 'E_LOCKED', err.message);
      assert.match(err.message, /Another job is writing into/);
      assert.ok(err.message.includes(join(dir, 'state-a')), err.message);
      return true;
    });
    server.setPlan(() => undefined);
    await firstRun;
    assert.ok(readFileSync(out).equals(body));
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.includes('.lock')),
      [],
      'the target lock is gone once the job is over',
    );
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
