// A presigned link that expires mid-job (at 40% of the file, the origin answers 403 with S3's XML body for
// the old signature): the job pauses as link-expired, keeping everything, and continues with a new link to
// the same file: Job.replaceUrl in the engine, a re-run of `get` with the new URL, or --refresh-url-command
// in one run. The bytes fetched twice are counted at the server: at most the window.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultServer, type FaultPlan } from '../../harness/fault-server';
import { assertTreesEqual } from '../helpers/archives';
import { FAST, FAST_CLI, eventsOf, makeFixture, runCli, runEngine, scratch, type Fixture } from './harness';
import { JOB_FILE } from '../../electron/engine/state/layout';

const CHUNK = 128 * 1024;
const WINDOW = 4;
const OLD = '?X-Amz-Expires=300&X-Amz-Signature=OLDSIG0000';
const NEW = '?X-Amz-Expires=300&X-Amz-Signature=NEWSIG1111';
const S3_EXPIRED = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message><X-Amz-Expires>300</X-Amz-Expires></Error>';

let work: string;
let fx: Fixture;
let server: FaultServer;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sm-expired-'));
  fx = await makeFixture(work, 'snap', 'tar.gz', { seed: 16, bytes: 2_400_000, incompressible: 0.7, maxFileBytes: 300_000 });
  server = await FaultServer.start({ maxResponseMs: 20_000 });
  await server.serve('/snap.tar.gz', { file: fx.archive });
  await server.serve('/nogag.tar.gz', { file: fx.archive }, { etag: null });
  const other = readFileSync(fx.archive);
  for (let i = 0; i < other.length; i += 4096) other[i] ^= 0x5a;
  await server.serve('/other.tar.gz', other, { etag: null });
});
after(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});

/** The old signature stops working once the server has sent 40% of the file for it. */
function expiresAt40(path: string): FaultPlan {
  let expired = false;
  const since = server.requests.length;
  return (r) => {
    if (r.path !== path || r.query !== OLD) return undefined;
    if (!expired)
      expired =
        server.requests
          .slice(since)
          .filter((q) => q.path === path && q.query === OLD)
          .reduce((n, q) => n + q.bytesSent, 0) >=
        0.4 * fx.size;
    return expired ? { kind: 'status', status: 403, body: S3_EXPIRED, contentType: 'application/xml' } : undefined;
  };
}

function servedSince(from: number, path: string): number {
  return server.requests
    .slice(from)
    .filter((r) => r.path === path)
    .reduce((n, r) => n + r.bytesSent, 0);
}

test('engine: a link that expires at 40% pauses the job as link-expired; replaceUrl with another file is refused; with the same file the job continues, re-fetching at most the window', async () => {
  const path = '/snap.tar.gz';
  server.setPlan(expiresAt40(path));
  const from = server.requests.length;
  const dir = scratch(work, 'engine');
  const where = { dest: join(dir, 'out'), stateDir: join(dir, 'state') };
  let refusedOther: Error | null = null;
  const o = await runEngine(
    server.url(path) + OLD,
    where,
    { onLinkExpired: 'wait' },
    (e, job) => {
      if (e.type === 'job-state' && e.state === 'paused' && e.reason === 'link-expired') {
        void (async () => {
          await job.replaceUrl(server.url('/other.tar.gz') + NEW).catch((err: Error) => (refusedOther = err));
          assert.equal(job.paused, 'link-expired', 'a refused link leaves the job paused');
          await job.replaceUrl(server.url(path) + NEW);
        })();
      }
    },
    30_000,
  );
  assert.equal(o.error, null, o.error?.message);
  assert.ok(eventsOf(o.events, 'job-state').some((e) => e.state === 'paused' && e.reason === 'link-expired'));
  assert.match((refusedOther as Error | null)?.message ?? '', /does not serve the file this job is downloading/);
  assert.equal((refusedOther as unknown as { code: string }).code, 'E_UPSTREAM_CHANGED');
  const expired = eventsOf(o.events, 'warning').find((w) => w.code === 'LINK_EXPIRED');
  assert.match(expired?.message ?? '', /HTTP 403, S3: Request has expired/);
  assert.ok(eventsOf(o.events, 'warning').some((w) => w.code === 'LINK_REPLACED'));
  const text = JSON.stringify(o.events);
  assert.ok(!text.includes('OLDSIG') && !text.includes('NEWSIG'), 'no event holds a signature');
  assertTreesEqual(fx.reference, where.dest);
  const refetched = servedSince(from, path) - fx.size;
  console.log(`engine replaceUrl: ${refetched} bytes fetched twice (bound ${WINDOW * CHUNK})`);
  assert.ok(refetched <= WINDOW * CHUNK, `${refetched} bytes fetched twice`);
});

test('CLI: an expired link exits 5 with the state kept (the paused job-state in --json); get with the new URL continues it', async () => {
  const path = '/snap.tar.gz';
  server.setPlan(expiresAt40(path));
  const from = server.requests.length;
  const dir = scratch(work, 'cli');
  const dest = join(dir, 'out');
  const first = await runCli(['get', server.url(path) + OLD, '--dest', dest, '--json', '--no-sidecar', ...FAST_CLI]);
  assert.equal(first.code, 5, first.stderr + first.stdout.slice(-2000));
  assert.ok(first.lines.some((l) => l.type === 'job-state' && l.state === 'paused' && l.reason === 'link-expired'));
  assert.equal(first.last?.type, 'error');
  assert.equal(first.last?.code, 'E_LINK_EXPIRED');
  assert.match(String(first.last?.message), /run the same get again with a fresh link/);
  assert.ok(!first.stdout.includes('OLDSIG') && !first.stderr.includes('OLDSIG'));
  const stateDir = join(dir, '.out.snapshot-manager');
  assert.equal(statSync(join(stateDir, JOB_FILE)).mode & 0o777, 0o600);

  const second = await runCli(['get', server.url(path) + NEW, '--dest', dest, '--json', '--no-sidecar', ...FAST_CLI]);
  assert.equal(second.code, 0, second.stderr + second.stdout.slice(-2000));
  const replaced = second.lines.find((l) => l.type === 'warning' && l.code === 'LINK_REPLACED');
  assert.match(String(replaced?.message), /serves the same file \(same size and ETag/);
  assert.ok(!second.stdout.includes('NEWSIG') && !second.stdout.includes('OLDSIG'));
  assertTreesEqual(fx.reference, dest);
  const refetched = servedSince(from, path) - fx.size;
  console.log(`CLI re-run with the new URL: ${refetched} bytes fetched twice (bound ${WINDOW * CHUNK})`);
  assert.ok(refetched <= WINDOW * CHUNK, `${refetched} bytes fetched twice`);
});

test('CLI re-run with a new URL of an origin without ETags: the sample range decides (the same file continues, another one starts over)', async () => {
  const path = '/nogag.tar.gz';
  server.setPlan(expiresAt40(path));
  const from = server.requests.length;
  const dir = scratch(work, 'sample');
  const dest = join(dir, 'out');
  const first = await runCli(['get', server.url(path) + OLD, '--dest', dest, '--json', '--no-sidecar', ...FAST_CLI]);
  assert.equal(first.code, 5, first.stderr);
  const second = await runCli(['get', server.url(path) + NEW, '--dest', dest, '--json', '--no-sidecar', ...FAST_CLI]);
  assert.equal(second.code, 0, second.stderr + second.stdout.slice(-1500));
  const replaced = second.lines.find((l) => l.type === 'warning' && l.code === 'LINK_REPLACED');
  assert.match(String(replaced?.message), /bytes at offset \d+ \(from a (staged chunk|part)\) are identical/);
  assertTreesEqual(fx.reference, dest);
  assert.ok(servedSince(from, path) - fx.size <= WINDOW * CHUNK + 64 * 1024);

  // Another file of the same size under a new link: not matched, so not spliced.
  server.setPlan(expiresAt40(path));
  const dir2 = scratch(work, 'sample-other');
  const dest2 = join(dir2, 'out');
  assert.equal((await runCli(['get', server.url(path) + OLD, '--dest', dest2, '--json', '--no-sidecar', ...FAST_CLI])).code, 5);
  const wrong = await runCli(['get', server.url('/other.tar.gz') + NEW, '--dest', dest2, '--json', '--no-sidecar', ...FAST_CLI]);
  assert.ok(
    wrong.lines.some((l) => l.type === 'warning' && l.code === 'LINK_NOT_MATCHED'),
    wrong.stdout.slice(-1500),
  );
  assert.ok(!wrong.lines.some((l) => l.type === 'warning' && l.code === 'LINK_REPLACED'));
});

test('--refresh-url-command: the job gets its fresh link from the command and completes in one run; its stderr is a warning without the query', async () => {
  const path = '/snap.tar.gz';
  server.setPlan(expiresAt40(path));
  const from = server.requests.length;
  const dir = scratch(work, 'refresh');
  const dest = join(dir, 'out');
  const script = join(dir, 'presign.sh');
  writeFileSync(script, `echo "presigning ${server.url(path)}${NEW}" >&2\necho\necho "${server.url(path)}${NEW}"\n`, { mode: 0o700 });
  const run = await runCli(['get', server.url(path) + OLD, '--dest', dest, '--json', '--no-sidecar', '--refresh-url-command', `sh ${script}`, ...FAST_CLI]);
  assert.equal(run.code, 0, run.stderr + run.stdout.slice(-2000));
  assert.ok(run.lines.some((l) => l.type === 'job-state' && l.reason === 'link-expired'));
  const stderrLine = run.lines.find((l) => l.type === 'warning' && l.code === 'LINK_REFRESH_STDERR');
  assert.match(String(stderrLine?.message), /refresh command: presigning http:\/\/127\.0\.0\.1:\d+\/snap\.tar\.gz\?…/);
  assert.ok(run.lines.some((l) => l.type === 'warning' && l.code === 'LINK_REPLACED'));
  assert.ok(!run.stdout.includes('NEWSIG') && !run.stdout.includes('OLDSIG'));
  assertTreesEqual(fx.reference, dest);
  const refetched = servedSince(from, path) - fx.size;
  console.log(`--refresh-url-command: ${refetched} bytes fetched twice (bound ${WINDOW * CHUNK})`);
  assert.ok(refetched <= WINDOW * CHUNK);
});

test("--refresh-url-command that fails: exit 5, the command's exit status in the message, the state kept for a re-run", async () => {
  const path = '/snap.tar.gz';
  server.setPlan(expiresAt40(path));
  const dir = scratch(work, 'refresh-fails');
  const dest = join(dir, 'out');
  const run = await runCli(['get', server.url(path) + OLD, '--dest', dest, '--json', '--no-sidecar', '--refresh-url-command', 'echo "no credentials" >&2; exit 3', ...FAST_CLI]);
  assert.equal(run.code, 5, run.stderr);
  assert.equal(run.last?.code, 'E_LINK_EXPIRED');
  assert.match(String(run.last?.message), /refresh command failed \(exit status 3\)/);
  assert.ok(run.lines.some((l) => l.type === 'warning' && l.code === 'LINK_REFRESH_STDERR' && /no credentials/.test(String(l.message))));
  // The command was saved with the state: a re-run without it still has it (it fails the same way here).
  const job = JSON.parse(readFileSync(join(dir, '.out.snapshot-manager', JOB_FILE), 'utf8')) as { refreshUrlCommand?: string };
  assert.match(job.refreshUrlCommand ?? '', /exit 3/);
});

void FAST;
