// --mirror: two real origins serve one archive. One killed mid-job: the job completes from the other, the
// tree is GNU tar's, the dead mirror is benched in the summary (and the wall time against a clean run is
// printed). A mirror serving other bytes under the same size with another strong ETag, or of another size,
// is dropped at its probe: not a byte of it is asked for. One that does not answer at the start is benched,
// not fatal. The CLI takes repeatable --mirror, refuses a malformed one, and keeps them owner-only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { closedPortUrl, FaultServer, type FaultPlan } from '../../harness/fault-server';
import { assertTreesEqual } from '../helpers/archives';
import { FAST_CLI, eventsOf, makeFixture, runCli, runEngine, scratch, suiteDir, type Fixture } from './harness';
import { parseGetArgs } from '../../electron/cli/get-args';
import { UsageError } from '../../electron/engine/errors';
import { MIRRORS_FILE } from '../../electron/engine/state/layout';
import type { SourceSummary } from '../../electron/engine/events';

const PATH = '/snap.tar.gz';
/**
 * Each origin is paced to about 0.8 MB/s in all (8 KiB every 10 ms, shared by the ranges it serves at once),
 * so that an origin's loss costs throughput and the job lasts long enough to kill one in it.
 */
function paced(server: () => FaultServer): FaultPlan {
  return (r) => {
    if (r.method !== 'GET') return undefined;
    const busy = server().requests.filter((q) => q.method === 'GET' && q.finishedAt === null && !q.aborted).length;
    return { kind: 'trickle', bytes: 8 * 1024, everyMs: 10 * (busy + 1) };
  };
}

async function pacedServer(): Promise<FaultServer> {
  let s: FaultServer | null = null;
  s = await FaultServer.start({ plan: paced(() => s!), maxResponseMs: 30_000 });
  return s;
}
const OPTIONS = { window: 6, concurrency: 4, retries: 4 };

let work: string;
let fx: Fixture;
let other: Buffer;

before(async () => {
  work = suiteDir('mirrors');
  fx = await makeFixture(work, 'snap', 'tar.gz', { seed: 61, bytes: 4_000_000, incompressible: 0.8, maxFileBytes: 400_000 });
  // The same size, other bytes: what a mirror with a stale or wrong file of that name would serve.
  other = readFileSync(fx.archive);
  for (let i = 0; i < other.length; i += 4096) other[i]! ^= 0x5a;
});
after(() => rmSync(work, { recursive: true, force: true }));

async function origins(): Promise<[FaultServer, FaultServer]> {
  const a = await pacedServer();
  const b = await pacedServer();
  await a.serve(PATH, { file: fx.archive });
  await b.serve(PATH, { file: fx.archive });
  return [a, b];
}

function getBytes(s: FaultServer): number {
  return s.requests.filter((r) => r.method === 'GET').reduce((n, r) => n + r.bytesSent, 0);
}

function mirrorOf(sources: SourceSummary[] | undefined): SourceSummary {
  const m = sources?.find((s) => s.role === 'mirror');
  assert.ok(m, 'the summary lists the mirror');
  return m;
}

test('two origins, the mirror killed mid-job: the job completes from the other, tree identical, the dead mirror benched; wall time against a clean run', async () => {
  const [a, b] = await origins();
  const [c, d] = await origins();
  try {
    const clean = await runEngine(
      a.url(PATH),
      { dest: join(scratch(work, 'clean'), 'out'), stateDir: join(work, 'clean-state') },
      { ...OPTIONS, mirrors: [b.url(PATH)] },
      undefined,
      60_000,
    );
    assert.equal(clean.error, null, clean.error?.message);
    assertTreesEqual(fx.reference, clean.dest);
    assert.ok(getBytes(a) > 0 && getBytes(b) > 0, `a clean run spreads ranges over both origins (${getBytes(a)} / ${getBytes(b)} bytes)`);
    assert.equal(mirrorOf(clean.summary?.sources).state, 'active');

    let killed = false;
    const dir = scratch(work, 'dying');
    const dying = await runEngine(
      c.url(PATH),
      { dest: join(dir, 'out'), stateDir: join(dir, 'state') },
      { ...OPTIONS, mirrors: [d.url(PATH)] },
      (e) => {
        if (!killed && e.type === 'progress' && e.bytesCommitted >= 0.4 * fx.size) {
          killed = true;
          void d.close();
        }
      },
      60_000,
    );
    assert.ok(killed, 'the mirror was killed mid-job');
    assert.equal(dying.error, null, dying.error?.message);
    assertTreesEqual(fx.reference, dying.dest);
    const mirror = mirrorOf(dying.summary?.sources);
    assert.equal(mirror.state, 'benched', `the dead mirror is benched (${JSON.stringify(mirror)})`);
    assert.ok(mirror.failures >= 2 && mirror.bytes > 0, `it served before it died, then failed (${JSON.stringify(mirror)})`);
    assert.ok(!mirror.host.includes('?'), 'the host is shown without a query string');
    const benched = eventsOf(dying.events, 'warning').filter((w) => w.code === 'MIRROR_BENCHED');
    assert.ok(benched.length >= 1 && benched[0]!.message.includes(`127.0.0.1:${d.port}`), 'the operator is told, naming the mirror');
    const last = eventsOf(dying.events, 'sources').at(-1);
    assert.equal(last?.sources.find((s) => s.role === 'mirror')?.state, 'benched', 'the window is told');
    // For scale: the same job from one of those origins alone.
    const alone = await runEngine(a.url(PATH), { dest: join(scratch(work, 'alone'), 'out'), stateDir: join(work, 'alone-state') }, OPTIONS, undefined, 60_000);
    assert.equal(alone.error, null, alone.error?.message);
    console.log(
      `# mirrors: ${(fx.size / 1e6).toFixed(1)} MB, origins paced to ~0.8 MB/s each: two clean ${clean.ms} ms, mirror killed at 40% ${dying.ms} ms (${(dying.ms / clean.ms).toFixed(2)}x), one origin alone ${alone.ms} ms`,
    );
  } finally {
    for (const s of [a, b, c, d]) await s.close();
  }
});

test('a mirror serving other bytes of the same size under another strong ETag, without a checksum: dropped at its probe, not a byte of it used', async () => {
  const [a, b] = await origins();
  await b.serve(PATH, other);
  try {
    const dir = scratch(work, 'other');
    const o = await runEngine(a.url(PATH), { dest: join(dir, 'out'), stateDir: join(dir, 'state') }, { ...OPTIONS, mirrors: [b.url(PATH)] }, undefined, 60_000);
    assert.equal(o.error, null, o.error?.message);
    assertTreesEqual(fx.reference, o.dest);
    assert.equal(getBytes(b), 0, 'no range was asked of it');
    const warning = eventsOf(o.events, 'warning').find((w) => w.code === 'MIRROR_DROPPED');
    assert.ok(warning, 'a warning says so');
    assert.match(warning.message, new RegExp(`127\\.0\\.0\\.1:${b.port}.*ETag`));
    const mirror = mirrorOf(o.summary?.sources);
    assert.equal(mirror.state, 'dropped');
    assert.equal(mirror.bytes, 0);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a mirror of another size is dropped at its probe; one that does not answer is benched, not fatal; one without a strong ETag is used with a warning', async () => {
  const [a, b] = await origins();
  const c = await pacedServer();
  await b.serve(PATH, readFileSync(fx.archive).subarray(0, fx.size - 1000));
  await c.serve(PATH, { file: fx.archive }, { etag: null });
  const dead = await closedPortUrl(PATH);
  try {
    const dir = scratch(work, 'sizes');
    const o = await runEngine(a.url(PATH), { dest: join(dir, 'out'), stateDir: join(dir, 'state') }, { ...OPTIONS, mirrors: [b.url(PATH), dead, c.url(PATH)] }, undefined, 60_000);
    assert.equal(o.error, null, o.error?.message);
    assertTreesEqual(fx.reference, o.dest);
    assert.equal(getBytes(b), 0, 'nothing asked of the mirror of another size');
    const warnings = eventsOf(o.events, 'warning');
    assert.ok(
      warnings.some((w) => w.code === 'MIRROR_DROPPED' && w.message.includes(`${fx.size - 1000} bytes`)),
      'the size is named',
    );
    assert.ok(
      warnings.some((w) => w.code === 'MIRROR_BENCHED'),
      'the dead one is benched',
    );
    assert.ok(
      warnings.some((w) => w.code === 'MIRROR_UNVERIFIED' && /--sha256/.test(w.message)),
      'the unverifiable one is used with a warning',
    );
    const states = o.summary?.sources?.map((s) => s.state);
    assert.deepEqual(states, ['active', 'dropped', 'benched', 'active']);
  } finally {
    for (const s of [a, b, c]) await s.close();
  }
});

test('the CLI takes repeatable --mirror, refuses a malformed one by name, keeps them owner-only, and prints each source in its summary', async () => {
  const parsed = parseGetArgs(['https://a.example/s.tar.gz', '--dest', '/tmp/x', '--mirror', 'https://b.example/s.tar.gz', '--mirror', 'http://c.example/s.tar.gz?sig=1']);
  assert.deepEqual(parsed.options.mirrors, ['https://b.example/s.tar.gz', 'http://c.example/s.tar.gz?sig=1']);
  assert.throws(
    () => parseGetArgs(['https://a.example/s.tar.gz', '--dest', '/tmp/x', '--mirror', 'b.example/s.tar.gz']),
    (err: unknown) => err instanceof UsageError && /^--mirror: "b\.example\/s\.tar\.gz" is not a valid URL/.test(err.message),
  );
  assert.throws(
    () => parseGetArgs(['https://a.example/s.tar.gz', '--dest', '/tmp/x', '--mirror', 'ftp://b.example/s?secret=1']),
    (err: unknown) => err instanceof UsageError && /--mirror: Unsupported scheme "ftp:"/.test(err.message) && !err.message.includes('secret'),
  );

  const [a, b] = await origins();
  try {
    const dir = scratch(work, 'cli');
    const state = join(dir, 'state');
    const r = await runCli(['get', a.url(PATH), '--dest', join(dir, 'out'), '--state-dir', state, '--keep-state', '--mirror', b.url(PATH) + '?sig=SECRET', ...FAST_CLI]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`mirror http://127\\.0\\.0\\.1:${b.port}/snap\\.tar\\.gz\\?…: .* in \\d+ requests`));
    assert.ok(!r.stderr.includes('SECRET'), 'the mirror query string is never printed');
    assert.equal(statSync(join(state, MIRRORS_FILE)).mode & 0o777, 0o600, 'kept owner-only');
    assertTreesEqual(fx.reference, join(dir, 'out'));

    // --json: the done line carries each source's counts, and `sources` lines come as they change.
    const j = await runCli(['get', a.url(PATH), '--dest', join(dir, 'out-json'), '--state-dir', join(dir, 'state-json'), '--mirror', b.url(PATH), '--json', ...FAST_CLI]);
    assert.equal(j.code, 0, j.stderr);
    assert.equal(j.last?.['type'], 'done');
    const listed = j.last?.['sources'] as SourceSummary[] | undefined;
    assert.deepEqual(
      listed?.map((src) => [src.role, src.state]),
      [
        ['primary', 'active'],
        ['mirror', 'active'],
      ],
    );
    assert.ok(listed!.reduce((n, src) => n + src.bytes, 0) >= fx.size, 'every byte came from one of them');
    assert.ok(j.lines.some((l) => l['type'] === 'sources'));
  } finally {
    await a.close();
    await b.close();
  }
});
