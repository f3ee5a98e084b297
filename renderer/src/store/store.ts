// The renderer's one store: jobs (fed by batches through a sequence gate per job), the selection, the
// settings and the connection. Vanilla zustand so the same code runs under node's test runner.
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { EngineEvent } from '../../../electron/engine/events';
import { applyDelta, createJobView } from './job-reducer';
import { foldEvents } from './fold-events';
import { SequenceGate } from './sequence';
import type { JobDelta, JobInfo, JobView, SerializedError } from './model';

export type ConnectionState = 'connecting' | 'open' | 'closed';

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
  /** The last failure of a call the operator made (add, pause, ...), shown until dismissed. */
  notice: { title: string; error: SerializedError } | null;
  stats: BatchStats;
}

export interface AppActions {
  /** A full view of a job (from the list after a restart or a resync): replaces what we had. */
  loadJob(info: JobInfo, seq: number, delta?: Omit<JobDelta, 'jobId' | 'seq'>): void;
  /** One batch of changes; applied once, in sequence order. Returns whether a resync is needed. */
  applyBatch(delta: JobDelta): boolean;
  applyEvents(jobId: string, seq: number, events: readonly EngineEvent[]): boolean;
  removeJob(jobId: string): void;
  selectJob(jobId: string | null): void;
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

    applyEvents(jobId, seq, events) {
      return get().applyBatch(foldEvents(jobId, seq, events));
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

    selectJob(jobId) {
      if (get().selectedJobId === jobId) return;
      set({ selectedJobId: jobId, selectedChunk: null });
    },
    selectChunk(index) {
      set({ selectedChunk: index });
    },
    setConnection(connection) {
      set({ connection });
    },
    setNotice(notice) {
      set({ notice });
    },
  }));
}
