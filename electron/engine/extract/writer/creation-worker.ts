// One thread of the creation pool (see creation-pool.ts): creates a batch's small files (create-whole.ts)
// and answers with one result per file.
import { parentPort } from 'node:worker_threads';
import type { CreationBatch } from './creation-protocol';
import { createBatch } from './create-whole';

parentPort!.on('message', (batch: CreationBatch) => {
  const results = createBatch(batch);
  // The buffer goes back to be filled again: a fresh one costs its page faults on every batch.
  parentPort!.postMessage({ id: batch.id, results, data: batch.data }, [batch.data]);
});
