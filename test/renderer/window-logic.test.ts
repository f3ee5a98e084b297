// The window's small decisions, as the renderer makes them: which actions a job's state allows, what a
// pasted checksum line stands for, and which job is selected after a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canResumeFailed, isDownloadOnly, jobActions } from '../../renderer/src/store/job-actions';
import { parseSha256Input } from '../../renderer/src/store/sha256-input';
import { createAppStore, preferredJob } from '../../renderer/src/store/store';
import { createJobView } from '../../renderer/src/store/job-reducer';
import { errorReport } from '../../renderer/src/store/error-text';
import { parseRateInput, rateText } from '../../renderer/src/store/rate-input';
import { skippedCount } from '../../renderer/src/store/format';
import { applyDelta } from '../../renderer/src/store/job-reducer';
import { sourceRows } from '../../renderer/src/store/source-rows';
import { parseMirrorsInput } from '../../renderer/src/store/mirrors-input';

const HEX = 'a'.repeat(32) + 'B'.repeat(32);
const err = (code: string) => ({ code, message: `m ${code}`, retryable: false, causes: [] });

test('a failed job offers Resume when its state allows it (403, full disk, refused connection), not after an upstream change', () => {
  for (const code of ['E_HTTP_STATUS', 'E_DISK_FULL', 'E_CONNECT', 'E_RETRIES_EXHAUSTED', 'E_PROBE', 'E_IO']) {
    assert.equal(jobActions({ state: 'failed', error: err(code) }).resume, true, code);
    assert.equal(jobActions({ state: 'failed', error: err(code) }).remove, true, code);
  }
  for (const code of ['E_UPSTREAM_CHANGED', 'E_CHECKSUM_MISMATCH', 'E_ARCHIVE_CORRUPT']) assert.equal(canResumeFailed(err(code)), false, code);
  assert.deepEqual(jobActions({ state: 'downloading', error: null }), { resume: false, pause: true, cancel: true, remove: false });
  assert.deepEqual(jobActions({ state: 'paused', error: null }), { resume: true, pause: false, cancel: true, remove: false });
  assert.deepEqual(jobActions({ state: 'done', error: null }), { resume: false, pause: false, cancel: false, remove: true });
  const view = createJobView({ id: 'o', url: 'http://h/x.tar.gz', output: '/tmp/x.tar.gz' });
  assert.equal(isDownloadOnly(view), true);
  assert.equal(isDownloadOnly(createJobView({ id: 'd', url: 'http://h/x.tar.gz', dest: '/tmp/x' })), false);
});

test('the SHA-256 field takes a pasted sha256sum line (text and binary mode, escaped name) and BSD’s form', () => {
  assert.equal(parseSha256Input(HEX), HEX.toLowerCase());
  assert.equal(parseSha256Input(`  ${HEX}  node-snapshot.tar.gz\n`), HEX.toLowerCase());
  assert.equal(parseSha256Input(`${HEX} *node snapshot.tar.gz`), HEX.toLowerCase());
  assert.equal(parseSha256Input(`\\${HEX}  odd\\nname.tar.gz`), HEX.toLowerCase());
  assert.equal(parseSha256Input(`SHA256 (node-snapshot.tar.gz) = ${HEX}`), HEX.toLowerCase());
  assert.equal(parseSha256Input('abc'), null);
  assert.equal(parseSha256Input(HEX.slice(1)), null);
  assert.equal(parseSha256Input(`${HEX}0  x`), null);
});

test('after a reload the job that runs is selected, not the oldest; a job the operator picked stays picked', () => {
  const store = createAppStore();
  const s = store.getState();
  s.loadJob({ id: 'old', url: 'http://h/old.tar.gz' }, 0, { at: 1, state: { state: 'done' } });
  s.loadJob({ id: 'active', url: 'http://h/active.tar.gz' }, 0, { at: 2, state: { state: 'downloading' } });
  s.loadJob({ id: 'new', url: 'http://h/new.tar.gz' }, 0, { at: 3, state: { state: 'paused', reason: 'user' } });
  assert.equal(store.getState().selectedJobId, 'old', 'the first one loaded is selected by default');
  store.getState().selectPreferred();
  assert.equal(store.getState().selectedJobId, 'active');
  store.getState().selectJob('old');
  store.getState().selectPreferred();
  assert.equal(store.getState().selectedJobId, 'old', 'the operator’s pick is kept');
  assert.equal(preferredJob([]), null);
});

test('the connection remembers when it was lost, so the window can say how old its figures are', () => {
  const store = createAppStore();
  store.getState().setConnection('open');
  assert.equal(store.getState().connectionLostAt, null);
  const before = Date.now();
  store.getState().setConnection('closed');
  const lost = store.getState().connectionLostAt!;
  assert.ok(lost >= before);
  store.getState().setConnection('unauthorized');
  assert.equal(store.getState().connectionLostAt, lost, 'still the moment it was lost');
  store.getState().setConnection('open');
  assert.equal(store.getState().connectionLostAt, null);
});

test('"Copy details" text carries the code, the message, the cause chain and the details', () => {
  const text = errorReport(
    { code: 'E_HTTP_STATUS', message: 'HTTP 403 Forbidden', retryable: false, causes: [{ code: 'E_X', message: 'inner' }], details: { status: 403 } },
    { job: 'snap.tar.gz', url: 'http://h/snap.tar.gz' },
  );
  assert.match(text, /job: snap\.tar\.gz/);
  assert.match(text, /E_HTTP_STATUS: HTTP 403 Forbidden/);
  assert.match(text, /caused by E_X: inner/);
  assert.match(text, /"status":403/);
});

test('the live rate limit field: MiB/s as typed, empty or 0 for none, "abc" and less than 1 KiB/s refused with a sentence', () => {
  assert.deepEqual(parseRateInput('2'), { limitRate: 2 * 1024 * 1024 });
  assert.deepEqual(parseRateInput(' 0,5 '), { limitRate: 512 * 1024 });
  assert.deepEqual(parseRateInput('.25'), { limitRate: 256 * 1024 });
  assert.deepEqual(parseRateInput(''), { limitRate: null });
  assert.deepEqual(parseRateInput('0'), { limitRate: null });
  assert.match((parseRateInput('abc') as { error: string }).error, /not a number/);
  assert.match((parseRateInput('1e3') as { error: string }).error, /not a number/);
  assert.match((parseRateInput('0.0001') as { error: string }).error, /lowest limit/);
  assert.equal(rateText(1.5 * 1024 * 1024), '1.5');
  assert.equal(rateText(null), '');
});

test('"Skipped" counts skipped entries, not every warning (a resume note or a missing validator is not a skipped entry)', () => {
  let view = createJobView({ id: 'k', url: 'http://h/x.tar.gz', dest: '/tmp/x' });
  view = applyDelta(view, {
    jobId: 'k',
    seq: 1,
    at: 10,
    warningCount: 4,
    warnings: [
      { at: 10, code: 'RESUMED', message: 'Resuming from the checkpoint' },
      { at: 10, code: 'NO_VALIDATOR', message: 'no ETag' },
      { at: 11, code: 'E_UNSAFE_ENTRY', message: 'absolute path', entry: '/etc/passwd' },
      { at: 11, code: 'E_UNSAFE_ENTRY', message: 'escapes', entry: '../x' },
    ],
  });
  assert.equal(skippedCount(view), 2, 'two skipped entries among four warnings');
  const done = applyDelta(view, {
    jobId: 'k',
    seq: 2,
    at: 20,
    done: {
      bytesTotal: 1,
      bytesFetched: 1,
      bytesWritten: 1,
      retries: 0,
      elapsedMs: 1,
      entries: 9,
      skipped: [{ entry: '/etc/passwd', code: 'E_UNSAFE_ENTRY', reason: 'r' }],
      skippedTotal: 3,
      skippedByCode: { E_UNSAFE_ENTRY: 3 },
      sha256: null,
      mode: 'ranged',
      format: 'gzip',
    },
  });
  assert.equal(skippedCount(done), 3, 'once done, the engine total (the list shows only the first ones)');
});

test('a job with mirrors: its sources reach the job view from a snapshot, and each row shows its host without a query string, bytes and state', () => {
  const store = createAppStore();
  const sources = [
    {
      host: 'https://a.example/s.tar.gz?…',
      role: 'primary' as const,
      state: 'active' as const,
      bytes: 3 * 1024 * 1024,
      requests: 9,
      failures: 0,
      benchedUntil: null,
      rate: 800_000,
      reason: null,
    },
    {
      host: 'https://b.example/s.tar.gz',
      role: 'mirror' as const,
      state: 'benched' as const,
      bytes: 1024 * 1024,
      requests: 6,
      failures: 3,
      benchedUntil: 10_000,
      rate: null,
      reason: 'connection refused',
    },
    {
      host: 'https://c.example/s.tar.gz',
      role: 'mirror' as const,
      state: 'dropped' as const,
      bytes: 0,
      requests: 0,
      failures: 0,
      benchedUntil: null,
      rate: null,
      reason: 'ETag differs',
    },
  ];
  store.getState().loadJob({ id: 'm', url: 'https://a.example/s.tar.gz?sig=1' }, 0, { at: 1, state: { state: 'downloading' }, sources });
  const view = store.getState().jobs['m']!;
  assert.equal(view.sources.length, 3);
  const rows = sourceRows(view.sources, 6_000);
  assert.deepEqual(
    rows.map((r) => [r.role, r.host, r.bytes, r.stateText]),
    [
      ['URL', 'https://a.example/s.tar.gz', '3.0 MiB', 'serving'],
      ['Mirror', 'https://b.example/s.tar.gz', '1.0 MiB', 'benched, next try in 4 s'],
      ['Mirror', 'https://c.example/s.tar.gz', '0 B', 'dropped'],
    ],
  );
  assert.equal(rows[1]!.reason, 'connection refused');
  assert.equal(rows[0]!.reason, null);
  // An older snapshot crossing a newer one does not bring old figures back.
  assert.equal(applyDelta(view, { jobId: 'm', seq: 1, at: 0, sources: [] }).sources.length, 3);
  assert.equal(applyDelta(view, { jobId: 'm', seq: 1, at: 2, sources: [] }).sources.length, 0);
});

test('the mirrors field takes one URL a line, ignores blank lines and repeats, and names a bad line without its query string', () => {
  assert.deepEqual(parseMirrorsInput(''), { mirrors: [] });
  assert.deepEqual(parseMirrorsInput(' https://b.example/s\n\nhttp://c.example/s?sig=1\nhttps://b.example/s\n'), { mirrors: ['https://b.example/s', 'http://c.example/s?sig=1'] });
  const bad = parseMirrorsInput('https://b.example/s\nftp://c.example/s?sig=SECRET');
  assert.ok('error' in bad && /^Line 2 \(ftp:\/\/c\.example\/s\?…\)/.test(bad.error) && !bad.error.includes('SECRET'));
  assert.ok('error' in parseMirrorsInput('https://u:p@b.example/s'));
});
