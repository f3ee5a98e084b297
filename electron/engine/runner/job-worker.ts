// Entry point of the engine worker thread: runs the jobs, gathers their events for a few milliseconds
// (folding superseded progress) and posts them to the manager's thread in one message.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { EngineEvent } from '../events';
import { EventFolder } from './event-folder';
import { JobHost } from './job-host';
import { PartsRun } from '../parts/parts-run';
import type { FromWorker, ToWorker, WorkerData } from './protocol';
import type { JobFactory, JobLike, JobOptions } from './runner';

/** Serves one manager thread over `port`. Loading this file elsewhere (a lint, a bundler) does nothing. */
export function serveJobs(port: MessagePort, data: WorkerData): void {
  // A module path known only at run time (the engine build the manager was given): require, not import.
  const jobModule = require(data.jobModule) as { Job: new (options: JobOptions, id?: string) => JobLike };
  // A snapshot in parts runs as one job of the parts (engine/parts/parts-run.ts).
  const createJob: JobFactory = (options, id) => (options.parts?.length ? new PartsRun(options, id) : new jobModule.Job(options, id));

  const folder = new EventFolder();
  let flushTimer: NodeJS.Timeout | null = null;

  function post(message: FromWorker): void {
    port.postMessage(message);
  }

  function flush(): void {
    flushTimer = null;
    if (folder.size > 0) post({ t: 'events', events: folder.take() });
  }

  function queue(e: EngineEvent): void {
    folder.push(e);
    // State changes travel at once so the host can act on them (terminal transitions are not delayed).
    if (e.type === 'job-state' || e.type === 'done' || e.type === 'error') {
      if (flushTimer) clearTimeout(flushTimer);
      flush();
    } else if (!flushTimer) {
      flushTimer = setTimeout(flush, data.batchMs);
    }
  }

  const host = new JobHost(createJob, {
    event: queue,
    settled: (id, outcome) => {
      // Events first, so the host's model is complete before it learns the outcome.
      if (flushTimer) clearTimeout(flushTimer);
      flush();
      post({ t: 'settled', id, outcome });
    },
  });

  port.on('message', (message: ToWorker) => {
    switch (message.op) {
      case 'start':
        host.start(message.id, message.options);
        break;
      case 'pause':
        host.pause(message.id, message.reason);
        break;
      case 'resume':
        host.resume(message.id);
        break;
      case 'cancel':
        host.cancel(message.id);
        break;
      case 'retryChunkNow':
        host.retryChunkNow(message.id, message.index);
        break;
      case 'setRateLimit':
        host.setRateLimit(message.id, message.bytesPerSecond);
        break;
      case 'history':
        post({ t: 'history', requestId: message.requestId, records: host.chunkHistory(message.id, message.index) });
        break;
      case 'replaceUrl':
        void host.replaceUrl(message.id, message.url).then((error) => post({ t: 'replaced', requestId: message.requestId, error }));
        break;
      case 'stopAll': {
        // Cancel keeps each job's state on disk (a later run resumes it) and closes its files and sockets.
        const deadline = Date.now() + 10_000;
        for (const id of host.runningIds()) host.cancel(id);
        const check = (): void => {
          if (host.runningIds().length > 0 && Date.now() < deadline) {
            setTimeout(check, 10);
            return;
          }
          if (flushTimer) clearTimeout(flushTimer);
          flush();
          post({ t: 'stopped-all', requestId: message.requestId });
        };
        check();
        break;
      }
    }
  });
}

if (parentPort) serveJobs(parentPort, workerData as WorkerData);
