// One process at a time owns a data directory: two on one job list would overwrite each other's writes and
// run the same jobs twice.
import { EngineError } from '../engine/errors';
import { FileLock } from '../engine/state/job-lock';

export function lockDataDir(dataDir: string): Promise<FileLock> {
  return FileLock.acquire(dataDir, 'manager.lock', {
    waitMs: 0,
    refuse: (h) =>
      new EngineError(
        'E_LOCKED',
        `Another Snapshot Manager (process ${h.pid} on ${h.host}, since ${new Date(h.startedAt).toISOString()}) already uses the state folder ${dataDir}. Stop it first, or give this one another --state-dir.`,
        { details: { pid: h.pid, host: h.host, startedAt: h.startedAt } },
      ),
  });
}
