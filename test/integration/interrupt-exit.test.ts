// Ctrl-C and SIGTERM end `get` with the documented exit code 3, after its cleanup, with the state kept so
// the same get resumes. Sent as a terminal sends them: to the whole process group, and (as npm forwards them
// to its child) once more to the process. Under npx the shell npm puts between itself and the bin decides
// the code npx exits with: dash (Debian's /bin/sh) re-raises SIGINT on itself once its command ends, and npm
// then kills itself by the same signal (130); with --script-shell=bash npm's child is the bin and npx exits 3.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FaultServer } from '../../harness/fault-server';
import { assertTreesEqual } from '../helpers/archives';
import { FAST_CLI, makeFixture, repoRoot, runCli, scratch, suiteDir, type Fixture } from './harness';

const MiB = 1024 * 1024;
const bin = join(repoRoot, 'bin', 'snapshot-manager.js');
const work = suiteDir('interrupt-exit');
let server: FaultServer;
let fixture: Fixture;
let url: string;
after(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

async function origin(): Promise<void> {
  if (server) return;
  server = await FaultServer.start();
  fixture = await makeFixture(work, 'snap', 'tar.gz', { seed: 3, bytes: 8 * MiB, incompressible: 1, maxFileBytes: 2 * MiB });
  url = await server.serve('/snap.tar.gz', { file: fixture.archive });
}

interface Stopped {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command` in a process group of its own (a terminal's foreground job), waits until the job has
 * committed data, then signals the group and, when `npmCopy`, 1 ms later the process itself (what npm's
 * forwarding adds to the bin). Under npx, npm itself is the command: it forwards the copy to its child, and
 * a copy sent to npm as well (no terminal does that) could land after npm dropped its handlers at exit.
 */
function interrupted(command: string[], signal: NodeJS.Signals, env: NodeJS.ProcessEnv = process.env, npmCopy = true): Promise<Stopped> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const hardStop = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 60_000);
    child.stdout.on('data', (d) => {
      stdout += String(d);
      if (!sent && /"bytesCommitted":[1-9]\d{6}/.test(stdout)) {
        sent = true;
        process.kill(-child.pid!, signal);
        if (npmCopy)
          setTimeout(() => {
            try {
              process.kill(child.pid!, signal);
            } catch {
              // already gone
            }
          }, 1);
      }
    });
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearTimeout(hardStop);
      if (!sent) reject(new Error(`ended before it was interrupted (${code}):\n${stderr}\n${stdout.slice(-1000)}`));
      else resolve({ code, signal: sig, stdout, stderr });
    });
  });
}

function getArgs(label: string): { args: string[]; dest: string; stateDir: string } {
  const dir = scratch(work, label);
  const dest = join(dir, 'out');
  const stateDir = join(dir, 'state');
  return { dest, stateDir, args: ['get', url, '--dest', dest, '--state-dir', stateDir, ...FAST_CLI, '--limit-rate', '2M', '--json'] };
}

function lastLine(out: string): Record<string, unknown> {
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
}

/** The state was kept: the same get (without the limit) resumes and finishes with GNU tar's tree. */
async function resumes(args: string[], dest: string): Promise<void> {
  const again = await runCli(args.filter((a, i) => a !== '--limit-rate' && args[i - 1] !== '--limit-rate'));
  assert.equal(again.code, 0, again.stderr);
  assert.ok(
    again.lines.some((l) => l.code === 'RESUMED'),
    'the second run resumed',
  );
  assertTreesEqual(fixture.reference, dest);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`the bin exits 3 on ${signal} to its process group, delivered twice as npm forwards it, after its cleanup; the same get resumes`, { timeout: 90_000 }, async () => {
    await origin();
    const { args, dest } = getArgs(signal);
    const r = await interrupted([process.execPath, bin, ...args], signal);
    assert.equal(r.signal, null, 'not killed by the signal');
    assert.equal(r.code, 3, r.stderr);
    // The copy of the signal did not cut the cleanup short: the verdict line is there.
    assert.equal(lastLine(r.stdout).code, 'E_ABORTED');
    await resumes(args, dest);
  });
}

function shIsDash(): boolean {
  try {
    return /dash$/.test(readlinkSync('/bin/sh'));
  } catch {
    return false;
  }
}

function npmThere(): string | false {
  return spawnSync('npm', ['--version'], { encoding: 'utf8' }).status === 0 ? false : 'npm is not installed';
}

test('npx: Ctrl-C ends the CLI with 3; npx passes it with --script-shell=bash, while /bin/sh as dash makes it 130', { skip: npmThere(), timeout: 120_000 }, async () => {
  await origin();
  // npx links this checkout into its cache: a cache of its own, not the user's.
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_cache: join(work, 'npm-cache'), npm_config_update_notifier: 'false' };
  delete env['npm_config_script_shell'];
  const viaBash = getArgs('npx-bash');
  const r = await interrupted(['npx', '--no-install', '--script-shell=bash', 'snapshot-manager', ...viaBash.args], 'SIGINT', env, false);
  assert.equal(r.code, 3, r.stderr);
  assert.equal(lastLine(r.stdout).code, 'E_ABORTED');
  await resumes(viaBash.args, viaBash.dest);

  const viaSh = getArgs('npx-sh');
  const s = await interrupted(['npx', '--no-install', 'snapshot-manager', ...viaSh.args], 'SIGINT', env, false);
  // Our process stopped the job and exited 3 either way; what npx reports is the shell's doing.
  assert.equal(lastLine(s.stdout).code, 'E_ABORTED');
  const dash = shIsDash();
  if (dash) assert.equal(s.signal ?? s.code, 'SIGINT', `npx under dash: ${s.code} ${s.signal}`);
  else assert.equal(s.code, 3);
  await resumes(viaSh.args, viaSh.dest);
});
