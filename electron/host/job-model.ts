// One job as the renderer sees it, built from the engine's events: its view (state, counters, probe),
// its full chunk map and window. A renderer that connects late asks for this snapshot; afterwards the
// coalescer sends only what changed. The persisted part (`JobRecord`) survives restarts.
import type { ChunkView, DecodingView, JobDetail, JobView, ProgressView, WindowView } from '../../shared/contract';
import type { AttemptRecord, ChunkState, EngineEvent, JobState, PauseReason, ResumeMode } from '../engine/events';
import type { ResumeModeName } from '../../shared/resume-words';
import type { SerializedError } from '../engine/errors';
import { redactUrl } from '../engine/transfer/redact';

/** Where the model reports what changed; the progress coalescer implements it. */
export interface ModelChanges {
  chunk(jobId: string, index: number): void;
  progress(jobId: string): void;
  window(jobId: string): void;
  attempt(jobId: string, event: Extract<EngineEvent, { type: 'attempt-started' | 'attempt-failed' | 'retry-scheduled' }>): void;
  state(jobId: string): void;
  error(jobId: string, error: SerializedError): void;
}

export type JobRecord = Omit<JobView, 'progress'> & {
  progress: ProgressView;
  /** One letter per chunk (see CHUNK_LETTERS): the map shown again after a restart. */
  chunkMap: string;
};

// The engine's resume modes, the contract's and the words' are one list (checked by the compiler).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const resumeModesMatch: Same<ResumeMode, DecodingView['resume']> & Same<ResumeMode, ResumeModeName> = true;
void resumeModesMatch;

export const TERMINAL_STATES: readonly JobState[] = ['done', 'failed', 'cancelled'];

const CHUNK_LETTERS: Record<ChunkState, string> = {
  pending: 'p',
  fetching: 'f',
  staged: 's',
  extracting: 'x',
  done: 'd',
  retrying: 'r',
  failed: 'F',
};
const LETTER_STATES = new Map(Object.entries(CHUNK_LETTERS).map(([state, letter]) => [letter, state as ChunkState]));

/** Attempts kept per chunk once the job no longer runs (the engine keeps its own while it runs). */
export const ATTEMPTS_KEPT = 20;

/** Chunks can be this many at most in a model (a 64 TiB snapshot in 1 MiB chunks would exceed it). */
const MAX_CHUNKS = 10_000_000;

export function emptyProgress(): ProgressView {
  return { bytesTotal: null, bytesFetched: 0, bytesCommitted: 0, bytesConsumed: 0, bytesWritten: 0, downloadRate: 0, extractRate: 0, retries: 0 };
}

export class JobModel {
  private view: JobView;
  private chunks: ChunkView[] = [];
  private windowView: WindowView | null = null;
  private readonly attempts = new Map<number, AttemptRecord[]>();
  /** Sequence of the latest batch sent for this job (the coalescer advances it). */
  seq = 0;

  constructor(
    record: JobRecord,
    private readonly changes: ModelChanges,
    private readonly now: () => number = Date.now,
  ) {
    const { chunkMap, ...view } = record;
    this.view = view;
    this.restoreChunkMap(chunkMap);
  }

  get id(): string {
    return this.view.id;
  }
  get state(): JobState {
    return this.view.state;
  }
  get pauseReason(): PauseReason | null {
    return this.view.pauseReason;
  }
  get isTerminal(): boolean {
    return TERMINAL_STATES.includes(this.view.state);
  }
  get chunkCount(): number {
    return this.chunks.length;
  }

  /**
   * The job as the window gets it: its links without their query (a presigned link's signature) or userinfo,
   * as every log line has them; the job list keeps them whole (record(), 0600) for the next run.
   */
  snapshot(): JobView {
    const v = this.view;
    return { ...v, url: redactUrl(v.url), probe: v.probe ? { ...v.probe, finalUrl: redactUrl(v.probe.finalUrl) } : null, progress: { ...v.progress } };
  }

  detail(): JobDetail {
    return { ...this.snapshot(), chunks: this.chunks.map((c) => ({ ...c })), window: this.windowView, seq: this.seq };
  }

  chunk(index: number): ChunkView | undefined {
    const c = this.chunks[index];
    return c ? { ...c } : undefined;
  }

  /** The attempts seen in this process for a chunk, oldest first (an open one has durationMs 0). */
  chunkHistory(index: number): AttemptRecord[] {
    return (this.attempts.get(index) ?? []).map((r) => ({ ...r }));
  }

  progress(): ProgressView {
    return { ...this.view.progress };
  }

  window(): WindowView | null {
    return this.windowView;
  }

  record(): JobRecord {
    return { ...this.view, progress: { ...this.view.progress }, chunkMap: this.chunks.map((c) => CHUNK_LETTERS[c.state]).join('') };
  }

  /** The rate limit changed (see JobManager.setRateLimit): the job's options say so. */
  setLimitRate(limitRate: number | null): void {
    this.view = { ...this.view, options: { ...this.view.options, limitRate }, updatedAt: this.now() };
    this.changes.state(this.view.id);
  }

  /** A state decided by the manager rather than reported by the engine (restore, cancel of an idle job, ...). */
  setState(state: JobState, fields: { pauseReason?: PauseReason | null; error?: SerializedError | null } = {}): void {
    const reason = state === 'paused' ? (fields.pauseReason ?? this.view.pauseReason ?? 'user') : null;
    const error = fields.error !== undefined ? fields.error : state === 'failed' ? this.view.error : null;
    if (this.view.state === state && this.view.pauseReason === reason && this.view.error === error) return;
    this.view = { ...this.view, state, pauseReason: reason, error, connecting: state === 'probing' ? (this.view.connecting ?? null) : null, updatedAt: this.now() };
    if (state !== 'paused' && state !== 'failed') this.settleInFlightChunks(state === 'done' ? 'done' : null);
    this.changes.state(this.view.id);
  }

  apply(e: EngineEvent): void {
    switch (e.type) {
      case 'part-state': {
        const parts = (this.view.parts ?? []).map((p) => (p.index === e.index ? { ...p, state: e.state, checksum: e.checksum ?? p.checksum } : p));
        this.view = { ...this.view, parts, updatedAt: e.at };
        this.changes.state(this.view.id);
        break;
      }
      case 'job-state':
        this.view = {
          ...this.view,
          // A wait for the origin ends with any other state (a user pause included); the next try re-sets it.
          connecting: e.state === 'probing' || (e.state === 'paused' && e.reason === 'unreachable') ? (this.view.connecting ?? null) : null,
          state: e.state,
          pauseReason: e.state === 'paused' ? (e.reason ?? 'user') : null,
          error: e.error ?? (e.state === 'failed' ? this.view.error : null),
          updatedAt: e.at,
        };
        this.changes.state(this.view.id);
        if (e.error) this.changes.error(this.view.id, e.error);
        break;
      case 'connect-retry':
        this.view = { ...this.view, connecting: { host: e.host, attempt: e.attempt, code: e.code, reason: e.reason, nextAt: e.nextAt, phase: e.phase }, updatedAt: e.at };
        this.changes.state(this.view.id);
        break;
      case 'probed':
        this.view = {
          ...this.view,
          connecting: null,
          probe: {
            finalUrl: e.finalUrl,
            size: e.size,
            mode: e.mode,
            etag: e.etag,
            lastModified: e.lastModified,
            chunkSize: e.chunkSize,
            chunkCount: e.chunkCount,
            format: e.format,
          },
          progress: { ...this.view.progress, bytesTotal: e.size },
          updatedAt: e.at,
        };
        this.layOutChunks(e.chunkCount, e.chunkSize, e.size);
        this.changes.state(this.view.id);
        break;
      case 'decoding':
        this.view = { ...this.view, decoding: { format: e.format, resume: e.resume, reason: e.reason }, updatedAt: e.at };
        this.changes.state(this.view.id);
        break;
      case 'chunk': {
        const c = this.ensureChunk(e.index);
        if (!c) break;
        c.state = e.state;
        c.bytes = e.bytes;
        c.length = e.length;
        if (e.state !== 'retrying') c.nextAt = null;
        if (e.state === 'done') c.errorCode = null;
        if (e.state === 'staged' || e.state === 'done') this.closeAttempt(e.index, e.at, e.bytes);
        this.changes.chunk(this.view.id, e.index);
        break;
      }
      case 'attempt-started': {
        const c = this.ensureChunk(e.index);
        if (c) {
          c.attempt = e.attempt;
          c.nextAt = null;
          this.changes.chunk(this.view.id, e.index);
          this.openAttempt(e.index, { attempt: e.attempt, startedAt: e.at, durationMs: 0, rangeStart: e.rangeStart, rangeEnd: e.rangeEnd, status: null, bytes: 0, error: null });
        }
        this.changes.attempt(this.view.id, e);
        break;
      }
      case 'attempt-failed': {
        const c = this.ensureChunk(e.index);
        if (c) {
          c.attempt = Math.max(c.attempt, e.attempt);
          c.errorCode = e.error.code;
          this.changes.chunk(this.view.id, e.index);
          const open = this.attempts.get(e.index)?.find((r) => r.attempt === e.attempt);
          if (open) Object.assign(open, { durationMs: e.durationMs, status: e.status, bytes: e.bytes, error: e.error });
        }
        this.changes.attempt(this.view.id, e);
        break;
      }
      case 'retry-scheduled': {
        const c = this.ensureChunk(e.index);
        if (c) {
          c.nextAt = e.nextAt;
          this.changes.chunk(this.view.id, e.index);
        }
        this.changes.attempt(this.view.id, e);
        break;
      }
      case 'window':
        this.windowView = { capacity: e.capacity, slots: e.slots, inFlight: e.inFlight, staged: e.staged, stagedBytes: e.stagedBytes, waitingOn: e.waitingOn };
        this.changes.window(this.view.id);
        break;
      case 'progress':
        this.view.progress = {
          bytesTotal: e.bytesTotal,
          bytesFetched: e.bytesFetched,
          bytesCommitted: e.bytesCommitted,
          bytesConsumed: e.bytesConsumed,
          bytesWritten: e.bytesWritten,
          downloadRate: e.downloadRate,
          extractRate: e.extractRate,
          retries: e.retries,
        };
        this.view.updatedAt = e.at;
        this.changes.progress(this.view.id);
        break;
      case 'warning':
        this.view = { ...this.view, warnings: this.view.warnings + 1 };
        break;
      case 'sources':
        this.view = { ...this.view, sources: e.sources, updatedAt: e.at };
        this.changes.state(this.view.id);
        break;
      case 'done': {
        const { type: _type, jobId: _jobId, at, ...summary } = e;
        this.view = {
          ...this.view,
          summary,
          // The summary's figures are the final ones (the last sources event may be up to a second old).
          ...(summary.sources ? { sources: summary.sources } : {}),
          progress: {
            ...this.view.progress,
            bytesTotal: summary.bytesTotal,
            bytesFetched: summary.bytesFetched,
            bytesWritten: summary.bytesWritten,
            retries: summary.retries,
            downloadRate: 0,
            extractRate: 0,
          },
          updatedAt: at,
        };
        this.changes.progress(this.view.id);
        // The job-state 'done' before it went out at once, without the summary: a window that watched the job
        // finish showed none until a reload. The summary goes out with a snapshot of its own.
        this.changes.state(this.view.id);
        break;
      }
      case 'error':
        this.view = { ...this.view, error: e.error, updatedAt: e.at };
        this.changes.error(this.view.id, e.error);
        break;
    }
  }

  /** Rates are meaningless once nothing runs; chunks caught mid-flight are pending again after a stop. */
  markStopped(): void {
    this.view.progress = { ...this.view.progress, downloadRate: 0, extractRate: 0 };
    this.changes.progress(this.view.id);
    this.settleInFlightChunks(null);
    this.windowView = null;
    this.changes.window(this.view.id);
  }

  private openAttempt(index: number, record: AttemptRecord): void {
    let list = this.attempts.get(index);
    if (!list) this.attempts.set(index, (list = []));
    list.push(record);
    if (list.length > ATTEMPTS_KEPT) list.splice(0, list.length - ATTEMPTS_KEPT);
  }

  private closeAttempt(index: number, at: number, bytes: number): void {
    const last = this.attempts.get(index)?.at(-1);
    if (last && last.durationMs === 0 && last.error === null) {
      last.durationMs = Math.max(0, at - last.startedAt);
      last.bytes = bytes;
    }
  }

  private settleInFlightChunks(to: 'done' | null): void {
    for (const c of this.chunks) {
      if (c.state === 'done' || c.state === 'pending' || c.state === 'failed') continue;
      c.state = to ?? 'pending';
      c.nextAt = null;
      if (to === 'done') c.bytes = c.length;
      this.changes.chunk(this.view.id, c.index);
    }
  }

  private layOutChunks(count: number, chunkSize: number, size: number | null): void {
    const n = Math.min(Math.max(0, Math.floor(count)), MAX_CHUNKS);
    const keep = this.chunks.length === n;
    const next: ChunkView[] = [];
    for (let i = 0; i < n; i++) {
      const length = size === null ? chunkSize : Math.max(0, Math.min(chunkSize, size - i * chunkSize));
      const old = keep ? this.chunks[i] : undefined;
      next.push(old ? { ...old, length } : { index: i, state: 'pending', bytes: 0, length, attempt: 0, nextAt: null, errorCode: null });
    }
    this.chunks = next;
    for (let i = 0; i < n; i++) this.changes.chunk(this.view.id, i);
  }

  private ensureChunk(index: number): ChunkView | null {
    if (!Number.isInteger(index) || index < 0 || index >= MAX_CHUNKS) return null;
    const chunkSize = this.view.probe?.chunkSize ?? 0;
    while (this.chunks.length <= index) {
      this.chunks.push({ index: this.chunks.length, state: 'pending', bytes: 0, length: chunkSize, attempt: 0, nextAt: null, errorCode: null });
    }
    return this.chunks[index]!;
  }

  private restoreChunkMap(map: string): void {
    const chunkSize = this.view.probe?.chunkSize ?? 0;
    const size = this.view.probe?.size ?? null;
    this.chunks = [];
    for (let i = 0; i < map.length && i < MAX_CHUNKS; i++) {
      const stored = LETTER_STATES.get(map[i]!) ?? 'pending';
      // Only finished chunks are facts after a restart, and the chunk a failed job failed on; anything in
      // flight starts over as pending.
      const state: ChunkState = stored === 'done' ? 'done' : stored === 'failed' && this.view.state === 'failed' ? 'failed' : 'pending';
      const length = size === null ? chunkSize : Math.max(0, Math.min(chunkSize, size - i * chunkSize));
      this.chunks.push({ index: i, state, bytes: state === 'done' ? length : 0, length, attempt: 0, nextAt: null, errorCode: null });
    }
  }
}
