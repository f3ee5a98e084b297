// The renderer's one store: jobs (fed by batches through a sequence gate per job), the selection, the
// settings and the connection. Vanilla zustand so the same code runs under node's test runner.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { EventMessage, JobDetail } from '../../../shared/contract';
import { applyDelta, createJobView } from './job-reducer';
import { deltaFromAttempt, deltaFromChunkBatch, deltaFromDetail, deltaFromJobError, deltaFromJobView, deltaFromWindow, jobInfoFromView } from './contract-adapter';
import { SequenceGate } from './sequence';
import type { JobDelta, JobInfo, JobView, SerializedError } from './model';

export type ConnectionState = 'connecting' | 'open' | 'closed' | 'unauthorized';

export interface BatchStats {
  applied: number;
  dropped: number;
  resyncs: number;
}

export interface AppState {
  jobs: Record<string, JobView>;
  /** Job ids, newest first. */
  order: string[];
  selectedJobId: string | null;
  selectedChunk: number | null;
  connection: ConnectionState;
  /** When the connection last went from open to anything else (the figures shown are from then), or null. */
  connectionLostAt: number | null;
  /** The operator picked the selected job (else it was chosen for them, and a better choice may replace it). */
  selectionByUser: boolean;
  /** The last failure of a call the operator made (add, pause, ...), shown until dismissed. */
  notice: { title: string; error: SerializedError } | null;
  stats: BatchStats;
}

export interface AppActions {
  /** A full view of a job (from the list after a restart or a resync): replaces what we had. */
  loadJob(info: JobInfo, seq: number, delta?: Omit<JobDelta, 'jobId' | 'seq'>): void;
  /** One batch of changes; applied once, in sequence order. Returns whether a resync is needed. */
  applyBatch(delta: JobDelta): boolean;
  /** Changes that carry no sequence number (state, window, attempts): newer-than-shown wins. */
  applyUnordered(delta: Omit<JobDelta, 'seq'>): void;
  /** A job with its whole chunk map; `seq` is the last batch it includes (unknown: what we applied). */
  loadDetail(detail: JobDetail, seq?: number): void;
  /** One event from the host. Returns the id of a job whose full detail should be fetched, if any. */
  ingest(message: EventMessage): string | null;
  removeJob(jobId: string): void;
  selectJob(jobId: string | null, byUser?: boolean): void;
  /** Selects the job an operator most likely wants after a (re)load, unless they picked one themselves. */
  selectPreferred(): void;
  selectChunk(index: number | null): void;
  setConnection(state: ConnectionState): void;
  setNotice(notice: AppState['notice']): void;
}

export type AppStore = StoreApi<AppState & AppActions>;

export function createAppStore(): AppStore {
  const gates = new Map<string, SequenceGate<JobDelta>>();
  const gateFor = (jobId: string): SequenceGate<JobDelta> => {
    let gate = gates.get(jobId);
    if (!gate) {
      gate = new SequenceGate<JobDelta>(0);
      gates.set(jobId, gate);
    }
    return gate;
  };

  return createStore<AppState & AppActions>()((set, get) => ({
    jobs: {},
    order: [],
    selectedJobId: null,
    selectedChunk: null,
    connection: 'connecting',
    connectionLostAt: null,
    selectionByUser: false,
    notice: null,
    stats: { applied: 0, dropped: 0, resyncs: 0 },

    loadJob(info, seq, delta) {
      const gate = gateFor(info.id);
      const pending = gate.reset(seq);
      let view = createJobView(info);
      if (delta) view = applyDelta(view, { ...delta, jobId: info.id, seq });
      for (const d of pending) view = applyDelta(view, d);
      const { jobs, order, selectedJobId } = get();
      set({
        jobs: { ...jobs, [info.id]: view },
        order: order.includes(info.id) ? order : [info.id, ...order],
        selectedJobId: selectedJobId ?? info.id,
      });
    },

    applyBatch(delta) {
      const state = get();
      const current = state.jobs[delta.jobId];
      const gate = gateFor(delta.jobId);
      const { ready, dropped, resync } = gate.offer(delta);
      const stats = { applied: state.stats.applied + ready.length, dropped: state.stats.dropped + dropped, resyncs: state.stats.resyncs + (resync ? 1 : 0) };
      if (ready.length === 0) {
        set({ stats });
        return false;
      }
      let view = current ?? createJobView({ id: delta.jobId, url: '' });
      for (const d of ready) view = applyDelta(view, d);
      if (resync) view = { ...view, needsResync: true };
      set({
        jobs: { ...state.jobs, [delta.jobId]: view },
        order: state.order.includes(delta.jobId) ? state.order : [delta.jobId, ...state.order],
        selectedJobId: state.selectedJobId ?? delta.jobId,
        stats,
      });
      return resync || (!current && !view.info.url);
    },

    applyUnordered(delta) {
      const state = get();
      const current = state.jobs[delta.jobId];
      if (!current) return;
      const view = applyDelta(current, { ...delta, seq: current.lastSeq });
      set({ jobs: { ...state.jobs, [delta.jobId]: view } });
    },

    loadDetail(detail, seq) {
      const known = gates.get(detail.id)?.lastSeq ?? 0;
      const at = seq ?? known;
      const delta = deltaFromDetail(detail, at);
      get().loadJob(jobInfoFromView(detail), at, delta);
    },

    ingest(message) {
      const s = get();
      switch (message.channel) {
        case 'jobSnapshot': {
          const view = message.payload;
          if (!s.jobs[view.id]) {
            s.loadJob(jobInfoFromView(view), gates.get(view.id)?.lastSeq ?? 0, deltaFromJobView(view, 0));
            // A job we meet mid-way (another window added it) has chunks we have not seen.
            return view.probe ? view.id : null;
          }
          s.applyUnordered(deltaFromJobView(view, 0));
          return null;
        }
        case 'jobRemoved':
          s.removeJob(message.payload.jobId);
          return null;
        case 'chunkBatch': {
          const jobId = message.payload.jobId;
          const unknown = !s.jobs[jobId];
          const resync = s.applyBatch(deltaFromChunkBatch(message.payload));
          return resync || unknown ? jobId : null;
        }
        case 'windowOccupancy':
          s.applyUnordered(deltaFromWindow(message.payload, 0));
          return null;
        case 'attempt':
          s.applyUnordered(deltaFromAttempt(message.payload, 0));
          return null;
        case 'jobError':
          s.applyUnordered(deltaFromJobError(message.payload, 0));
          return null;
      }
    },

    removeJob(jobId) {
      gates.delete(jobId);
      const { jobs, order, selectedJobId } = get();
      const { [jobId]: _gone, ...rest } = jobs;
      const nextOrder = order.filter((id) => id !== jobId);
      set({
        jobs: rest,
        order: nextOrder,
        selectedJobId: selectedJobId === jobId ? (nextOrder[0] ?? null) : selectedJobId,
        selectedChunk: selectedJobId === jobId ? null : get().selectedChunk,
      });
    },

    selectJob(jobId, byUser = true) {
      if (get().selectedJobId === jobId) {
        if (byUser && !get().selectionByUser) set({ selectionByUser: true });
        return;
      }
      set({ selectedJobId: jobId, selectedChunk: null, selectionByUser: byUser });
    },
    selectPreferred() {
      const { jobs, order, selectionByUser, selectedJobId } = get();
      if (selectionByUser && selectedJobId && jobs[selectedJobId]) return;
      const preferred = preferredJob(order.map((id) => jobs[id]!).filter(Boolean));
      if (preferred && preferred !== selectedJobId) set({ selectedJobId: preferred, selectedChunk: null, selectionByUser: false });
    },
    selectChunk(index) {
      set({ selectedChunk: index });
    },
    setConnection(connection) {
      const { connection: was, connectionLostAt } = get();
      set({ connection, connectionLostAt: connection === 'open' ? null : was === 'open' ? Date.now() : connectionLostAt });
    },
    setNotice(notice) {
      set({ notice });
    },
  }));
}

const RANK: Record<JobView['state'], number> = { downloading: 0, verifying: 0, probing: 0, paused: 1, failed: 2, done: 3, cancelled: 4 };

/** The newest job that runs; else the newest paused, failed, done one; `jobs` newest first. */
export function preferredJob(jobs: JobView[]): string | null {
  let best: JobView | null = null;
  for (const job of jobs) if (!best || RANK[job.state] < RANK[best.state]) best = job;
  return best?.info.id ?? null;
}
