// A refused connection at the start, as the window shows it: the engine's connect-retry events go through the
// host's job model and the store, and the card says "Connecting to <host>: connection refused (attempt 3,
// next try in 8 s)" instead of a silent "Checking the source"; one host down is "the server does not answer",
// never "the network is offline".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobModel, emptyProgress, type JobRecord, type ModelChanges } from '../../electron/host/job-model';
import type { EngineEvent } from '../../electron/engine/events';
import { createAppStore } from '../../renderer/src/store/store';
import { connectingLine, stateLabel } from '../../renderer/src/store/format';

const ID = 'job-c';
const noop: ModelChanges = { chunk() {}, progress() {}, window() {}, attempt() {}, state() {}, error() {} };

function record(): JobRecord {
  return {
    id: ID,
    url: 'http://mirror.example:8080/x.tar.gz',
    dest: '/tmp/x',
    output: null,
    state: 'probing',
    pauseReason: null,
    error: null,
    createdAt: 0,
    updatedAt: 0,
    probe: null,
    progress: emptyProgress(),
    summary: null,
    options: { chunkSize: 1, window: 4, concurrency: 4, limitRate: null, retries: 8, format: 'auto', sha256: null, strict: false, force: false },
    warnings: 0,
    chunkMap: '',
  };
}

function retry(attempt: number, at: number, delayMs: number, phase: 'start' | 'unreachable' = 'start'): EngineEvent {
  return { type: 'connect-retry', jobId: ID, at, host: 'mirror.example:8080', attempt, code: 'E_CONNECT', reason: 'connection refused', delayMs, nextAt: at + delayMs, phase };
}

/** The model's snapshot as the window receives it. */
function shown(model: JobModel) {
  const store = createAppStore();
  store.getState().ingest({ channel: 'jobSnapshot', payload: model.snapshot() });
  return store.getState().jobs[ID]!;
}

test('a refused connection at the start reads "Connecting to <host>: connection refused (attempt 3, next try in 8 s)", counting down', () => {
  const model = new JobModel(record(), noop);
  assert.equal(stateLabel(shown(model)), 'Checking the source');
  assert.equal(connectingLine(shown(model), 0), null);
  model.apply(retry(1, 1_000, 2_000));
  model.apply(retry(2, 3_100, 4_000));
  model.apply(retry(3, 7_200, 8_000));
  const job = shown(model);
  assert.equal(stateLabel(job), 'Connecting');
  assert.equal(connectingLine(job, 7_200), 'Connecting to mirror.example:8080: connection refused (attempt 3, next try in 8 s)');
  assert.equal(connectingLine(job, 12_300), 'Connecting to mirror.example:8080: connection refused (attempt 3, next try in 3 s)');
  assert.equal(connectingLine(job, 15_300), 'Connecting to mirror.example:8080: connection refused (attempt 3, trying again now)');
});

test('the line goes once the source answers or the job fails; one host down mid-job is "the server does not answer", not offline', () => {
  const model = new JobModel(record(), noop);
  model.apply(retry(1, 1_000, 2_000));
  model.apply({
    type: 'probed',
    jobId: ID,
    at: 2_000,
    finalUrl: 'http://mirror.example:8080/x.tar.gz',
    size: 10,
    mode: 'ranged',
    etag: null,
    lastModified: null,
    chunkSize: 4,
    chunkCount: 3,
    format: null,
  });
  model.apply({ type: 'job-state', jobId: ID, at: 2_001, state: 'downloading' });
  assert.equal(shown(model).connecting, null);

  model.apply({ type: 'job-state', jobId: ID, at: 3_000, state: 'paused', reason: 'unreachable' });
  model.apply(retry(1, 3_000, 5_000, 'unreachable'));
  const paused = shown(model);
  assert.equal(stateLabel(paused), 'Paused — the server does not answer');
  assert.doesNotMatch(stateLabel(paused), /offline/);
  assert.equal(connectingLine(paused, 3_000), 'Connecting to mirror.example:8080: connection refused (attempt 1, next try in 5 s)');

  model.apply({ type: 'job-state', jobId: ID, at: 9_000, state: 'failed', error: { code: 'E_CONNECT', message: 'm', retryable: false, causes: [] } });
  assert.equal(shown(model).connecting, null);
  assert.equal(connectingLine(shown(model), 9_000), null);
});
