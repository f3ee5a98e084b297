// Applies one in-order batch to a job view. The grid and the per-chunk maps are updated in place (a
// 100,000-chunk job cannot be copied ten times a second); the view object itself is new each time so
// subscribers that compare by reference see the change.
import { ChunkGrid } from './chunk-grid';
import type { AttemptView, CounterSample, JobDelta, JobInfo, JobView, ProgressInfo, ThroughputSample } from './model';

export const ATTEMPTS_KEPT = 20;
export const WARNINGS_KEPT = 200;
/** One throughput sample per second over the last five minutes. */
export const SAMPLE_SPACING_MS = 1000;
export const SAMPLE_SPAN_MS = 5 * 60_000;
/** Byte counters kept for the ETA's average rate. */
export const COUNTER_SPAN_MS = 60_000;

const EMPTY_PROGRESS: ProgressInfo = {
  bytesTotal: null,
  bytesFetched: 0,
  bytesCommitted: 0,
  bytesConsumed: 0,
  bytesWritten: 0,
  downloadRate: 0,
  extractRate: 0,
  retries: 0,
};

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
}

/** The file name at the end of the URL's path: how operators name a snapshot. */
export function nameOf(url: string): string {
  try {
    const path = new URL(url).pathname;
    const last = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
    return last || new URL(url).host;
  } catch {
    return url;
  }
}

export function createJobView(info: JobInfo): JobView {
  return {
    info,
    host: hostOf(info.url),
    name: nameOf(info.url),
    state: 'probing',
    reason: null,
    error: null,
    connecting: null,
    sources: [],
    probe: null,
    decoding: null,
    grid: new ChunkGrid(0),
    gridVersion: 0,
    window: null,
    progress: { ...EMPTY_PROGRESS },
    samples: [],
    counters: [],
    attempts: new Map(),
    nextRetry: new Map(),
    lastErrorCode: new Map(),
    detailVersion: 0,
    warnings: [],
    warningCount: 0,
    skipped: 0,
    summary: null,
    lastSeq: 0,
    needsResync: false,
    stateAt: -Infinity,
    progressAt: -Infinity,
    windowAt: -Infinity,
    updatedAt: info.createdAt ?? 0,
  };
}

export function applyDelta(view: JobView, delta: JobDelta): JobView {
  const next: JobView = { ...view, lastSeq: Math.max(view.lastSeq, delta.seq), updatedAt: Math.max(view.updatedAt, delta.at) };
  let gridChanged = false;
  let detailChanged = false;

  if (delta.info) {
    next.info = { ...view.info, ...definedOnly(delta.info) };
    next.host = hostOf(next.info.url);
    next.name = nameOf(next.info.url);
  }
  if (delta.probe) {
    next.probe = delta.probe;
    if (delta.probe.chunkCount > next.grid.count) {
      next.grid.ensure(delta.probe.chunkCount);
      gridChanged = true;
    }
  }
  if (delta.decoding) next.decoding = delta.decoding;
  // Snapshots carry the latest figures; an older one crossing a newer is not let back in.
  if (delta.sources && delta.at >= view.stateAt) next.sources = delta.sources;
  if (delta.state && delta.at >= view.stateAt) {
    next.stateAt = delta.at;
    next.state = delta.state.state;
    next.reason = delta.state.state === 'paused' ? (delta.state.reason ?? 'user') : null;
    next.error = delta.state.error ?? (delta.state.state === 'failed' ? view.error : null);
    next.connecting = delta.state.connecting ?? null;
  }
  if (delta.window && delta.at >= view.windowAt) {
    next.window = delta.window;
    next.windowAt = delta.at;
  }
  if (delta.progress && delta.at >= view.progressAt) {
    next.progressAt = delta.at;
    next.progress = { ...view.progress, ...definedOnly(delta.progress) };
    next.samples = addSample(view.samples, {
      at: delta.at,
      download: next.progress.downloadRate,
      extract: next.progress.extractRate,
    });
    next.counters = addCounter(view.counters, { at: delta.at, committed: next.progress.bytesCommitted, consumed: next.progress.bytesConsumed });
  }
  for (const a of delta.attemptsStarted ?? []) {
    const list = next.attempts.get(a.index) ?? [];
    if (list.some((x) => x.attempt === a.attempt)) continue;
    // A new attempt means the previous one ended, whatever we were told about it.
    closeOpenAttempt(list, a.at, undefined);
    // Attempts start only on chunks still to fetch: one reported after its chunk was staged (batches of
    // different channels can cross) has already ended.
    const settled = ['staged', 'extracting', 'done'].includes(next.grid.stateOf(a.index));
    list.push({ attempt: a.attempt, startedAt: a.at, rangeStart: a.rangeStart, rangeEnd: a.rangeEnd, status: null, bytes: 0, durationMs: 0, error: null, open: !settled });
    if (list.length > ATTEMPTS_KEPT) list.splice(0, list.length - ATTEMPTS_KEPT);
    next.attempts.set(a.index, list);
    detailChanged = true;
  }
  for (const f of delta.attemptsFailed ?? []) {
    const list = next.attempts.get(f.index) ?? [];
    let record = list.find((x) => x.attempt === f.attempt);
    if (!record) {
      record = { attempt: f.attempt, startedAt: f.at - f.durationMs, rangeStart: 0, rangeEnd: 0, status: null, bytes: 0, durationMs: 0, error: null, open: false };
      list.push(record);
      list.sort((x, y) => x.attempt - y.attempt);
      if (list.length > ATTEMPTS_KEPT) list.splice(0, list.length - ATTEMPTS_KEPT);
    }
    Object.assign(record, { status: f.status, bytes: f.bytes, durationMs: f.durationMs, error: f.error, open: false });
    next.attempts.set(f.index, list);
    detailChanged = true;
  }
  // Chunk states after attempts: a batch can carry an attempt's start and its chunk's staging together, and
  // the state (the later fact) must close the attempt the same batch opened.
  if (delta.chunks) {
    for (const c of delta.chunks) {
      if (next.grid.set(c.index, c.state, c.bytes, c.length)) gridChanged = true;
      if (c.state === 'retrying' && typeof c.nextAt === 'number') {
        const known = next.nextRetry.get(c.index);
        if (known?.nextAt !== c.nextAt) {
          next.nextRetry.set(c.index, { ...known, index: c.index, attempt: (c.attempt ?? known?.attempt ?? 0) + (known ? 0 : 1), nextAt: c.nextAt });
          detailChanged = true;
        }
      } else if (c.state !== 'retrying' && next.nextRetry.delete(c.index)) detailChanged = true;
      if (c.errorCode && next.lastErrorCode.get(c.index) !== c.errorCode) {
        next.lastErrorCode.set(c.index, c.errorCode);
        detailChanged = true;
      }
      if (c.state === 'staged' || c.state === 'extracting' || c.state === 'done') {
        if (closeOpenAttempt(next.attempts.get(c.index), delta.at, c.length)) detailChanged = true;
      }
    }
  }
  for (const r of delta.retries ?? []) {
    next.nextRetry.set(r.index, r);
    detailChanged = true;
  }
  if (delta.warnings && delta.warnings.length > 0) {
    next.warnings = [...view.warnings, ...delta.warnings].slice(-WARNINGS_KEPT);
    next.skipped = view.skipped + delta.warnings.filter((w) => w.entry !== undefined).length;
    next.warningCount = Math.max(view.warningCount + delta.warnings.length, next.warningCount);
  }
  if (delta.warningCount !== undefined) next.warningCount = Math.max(next.warningCount, delta.warningCount);
  if (delta.done) {
    next.summary = delta.done;
    next.state = 'done';
    next.reason = null;
    next.error = null;
    next.skipped = Math.max(next.skipped, delta.done.skippedTotal ?? delta.done.skipped.length);
    next.grid.setAll('done');
    next.stateAt = Math.max(next.stateAt, delta.at);
    next.windowAt = Math.max(next.windowAt, delta.at);
    next.window = next.window
      ? { ...next.window, slots: next.window.slots.map((s) => ({ ...s, chunk: null, state: 'free', bytes: 0 })), inFlight: 0, staged: 0, stagedBytes: 0, waitingOn: 'none' }
      : null;
    next.nextRetry.clear();
    next.progress = { ...next.progress, downloadRate: 0, extractRate: 0, retries: delta.done.retries };
    gridChanged = true;
  }
  if (delta.error && delta.at >= view.stateAt && next.state !== 'done') {
    next.stateAt = delta.at;
    next.error = delta.error;
    if (delta.error.code === 'E_ABORTED') next.state = 'cancelled';
    else if (next.state !== 'paused') next.state = 'failed';
  }
  if (gridChanged) next.gridVersion = view.gridVersion + 1;
  if (detailChanged) next.detailVersion = view.detailVersion + 1;
  return next;
}

function closeOpenAttempt(list: AttemptView[] | undefined, at: number, length: number | undefined): boolean {
  const open = list?.find((x) => x.open);
  if (!open) return false;
  open.open = false;
  open.durationMs = Math.max(0, at - open.startedAt);
  if (length !== undefined) open.bytes = length;
  return true;
}

function addSample(samples: ThroughputSample[], sample: ThroughputSample): ThroughputSample[] {
  const last = samples[samples.length - 1];
  const kept = samples.filter((s) => s.at >= sample.at - SAMPLE_SPAN_MS);
  if (last && sample.at - last.at < SAMPLE_SPACING_MS) {
    // Same second: keep the newest rate rather than grow the series.
    kept[kept.length - 1] = { ...sample, at: last.at };
    return kept;
  }
  if (last && sample.at < last.at) return kept;
  kept.push(sample);
  return kept;
}

function addCounter(counters: CounterSample[], sample: CounterSample): CounterSample[] {
  const last = counters[counters.length - 1];
  if (last && sample.at <= last.at) return counters;
  // A new run starts its counters again from what it resumed: the old samples would read as a negative rate.
  if (last && (sample.committed < last.committed || sample.consumed < last.consumed)) return [sample];
  const kept = counters.filter((s) => s.at >= sample.at - COUNTER_SPAN_MS);
  kept.push(sample);
  return kept;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
