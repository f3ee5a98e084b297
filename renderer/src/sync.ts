// Keeps the store in step with the host: subscribes to every event channel, loads the job list and
// each job's chunk map on (re)connect, and fetches a job's full detail when a batch says we missed some.
import { EVENT_CHANNELS, asSerializedError, type Api, type EventMessage } from '../../shared/contract';
import type { ConnectionStatus } from '../../shared/ws-client';
import type { AppStore } from './store/store';

export function startSync(api: Api, store: AppStore, onStatus: (listener: (s: ConnectionStatus) => void) => void): void {
  const fetching = new Set<string>();

  const refreshJob = (jobId: string): void => {
    if (fetching.has(jobId)) return;
    fetching.add(jobId);
    api
      .getJob({ jobId })
      .then((detail) => store.getState().loadDetail(detail, seqOf(detail)))
      .catch((err) => {
        const error = asSerializedError(err);
        if (error.code === 'E_NOT_FOUND') store.getState().removeJob(jobId);
      })
      .finally(() => fetching.delete(jobId));
  };

  for (const channel of EVENT_CHANNELS) {
    api.on(channel, (payload) => {
      const wanted = store.getState().ingest({ channel, payload } as EventMessage);
      if (wanted) refreshJob(wanted);
    });
  }

  const loadAll = async (): Promise<void> => {
    try {
      const jobs = await api.listJobs();
      const known = new Set(jobs.map((j) => j.id));
      for (const id of Object.keys(store.getState().jobs)) if (!known.has(id)) store.getState().removeJob(id);
      // Oldest first, so the newest ends at the top of the list.
      for (const job of [...jobs].sort((a, b) => a.createdAt - b.createdAt)) {
        store.getState().ingest({ channel: 'jobSnapshot', payload: job });
        refreshJob(job.id);
      }
      // The job that runs, not the oldest one, is what an operator reloading the page came back for.
      store.getState().selectPreferred();
    } catch (err) {
      store.getState().setNotice({ title: 'Could not load the jobs', error: asSerializedError(err) });
    }
  };

  let wasOpen = false;
  onStatus((status) => {
    store.getState().setConnection(status);
    if (status === 'open' && !wasOpen) void loadAll();
    wasOpen = status === 'open';
  });
}

/** The last batch a detail includes, when the host says (batches up to it are already in the detail). */
function seqOf(detail: object): number | undefined {
  const seq = (detail as { seq?: unknown }).seq;
  return typeof seq === 'number' ? seq : undefined;
}
