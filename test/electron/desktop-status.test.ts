// Taskbar progress, keep-awake and notifications decided from the event stream; connectivity polling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { DesktopStatus, overallProgress } from '../../electron/desktop/desktop-status';
import { watchOnline } from '../../electron/desktop/online-watch';
import { DEFAULT_SETTINGS } from '../../shared/schemas';
import type { JobView, Settings } from '../../shared/contract';

function job(id: string, state: JobView['state'], consumed: number, total: number | null): JobView {
  return {
    id,
    url: `http://h/${id}.tar.gz`,
    dest: `/d/${id}`,
    output: null,
    state,
    pauseReason: state === 'paused' ? 'user' : null,
    error: state === 'failed' ? { code: 'E_HTTP_STATUS', message: 'HTTP 404', retryable: false, causes: [] } : null,
    createdAt: 0,
    updatedAt: 0,
    probe: null,
    progress: { bytesTotal: total, bytesFetched: 0, bytesCommitted: 0, bytesConsumed: consumed, bytesWritten: 0, downloadRate: 0, extractRate: 0, retries: 0 },
    summary: null,
    options: { chunkSize: 1, window: 1, concurrency: 1, limitRate: null, retries: 1, format: 'auto', sha256: null, strict: false, force: false },
    warnings: 0,
  };
}

test('overall progress spans the active jobs only', () => {
  assert.equal(overallProgress([]), null);
  assert.equal(overallProgress([job('a', 'done', 10, 10)]), null);
  assert.equal(overallProgress([job('a', 'downloading', 25, 100), job('b', 'downloading', 75, 100), job('c', 'paused', 0, 1000)]), 0.5);
  assert.equal(overallProgress([job('a', 'probing', 0, null)]), 0);
});

test('keep-awake follows the setting and activity; done and failed notify once', () => {
  let jobs = [job('a', 'downloading', 0, 100)];
  let settings: Settings = { ...DEFAULT_SETTINGS, keepAwake: true };
  const effects = { progress: [] as Array<number | null>, awake: [] as boolean[], notes: [] as string[] };
  const status = new DesktopStatus(
    { list: () => jobs, settings: () => settings },
    { setProgress: (p) => effects.progress.push(p), setKeepAwake: (on) => effects.awake.push(on), notify: (t, b) => effects.notes.push(`${t}: ${b}`) },
  );
  assert.deepEqual(effects.awake, [true]);
  jobs = [job('a', 'downloading', 1, 100)];
  status.onEvents([]);
  assert.deepEqual(effects.progress, [0, 0.01], 'steps of at least 0.5 % only');
  jobs = [job('a', 'done', 100, 100)];
  status.onEvents([{ channel: 'jobSnapshot', payload: jobs[0]! }]);
  status.onEvents([{ channel: 'jobSnapshot', payload: jobs[0]! }]);
  assert.equal(effects.notes.length, 1);
  assert.match(effects.notes[0]!, /Snapshot ready: a\.tar\.gz/);
  assert.deepEqual(effects.awake, [true, false], 'released when idle');
  assert.equal(effects.progress.at(-1), null);
  settings = { ...settings, notify: false };
  const failed = job('b', 'failed', 0, 10);
  jobs = [failed];
  status.onEvents([{ channel: 'jobSnapshot', payload: failed }]);
  assert.equal(effects.notes.length, 1, 'notifications can be turned off');
});

test('online transitions are reported once each', async () => {
  let online = true;
  const seen: boolean[] = [];
  const stop = watchOnline(
    () => online,
    (o) => seen.push(o),
    10,
  );
  await sleep(40);
  online = false;
  await sleep(40);
  online = true;
  await sleep(40);
  stop();
  assert.deepEqual(seen, [false, true]);
});
