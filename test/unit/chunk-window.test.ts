import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkWindow } from '../../electron/engine/staging/chunk-window';

test('a permit is needed before a chunk is admitted, and returns only on release', async () => {
  const w = new ChunkWindow(2);
  await w.acquire(0, 10);
  await w.acquire(1, 10);
  assert.equal(w.free, 0);
  let admitted = false;
  const third = w.acquire(2, 10).then(() => {
    admitted = true;
  });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(admitted, false, 'chunk 2 waits while the window is full');
  w.update(0, 'staged', 10);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(admitted, false, 'staging does not free a slot: only consumption does');
  w.release(0);
  await third;
  assert.equal(admitted, true);
  assert.equal(w.snapshot(1).slots[0]!.chunk, 2, 'chunk 2 reuses the slot of chunk 0');
});

test('waiting on the extractor vs. on the network', async () => {
  const w = new ChunkWindow(2);
  await w.acquire(0, 10);
  assert.equal(w.snapshot(0).waitingOn, 'network');
  await w.acquire(1, 10);
  w.update(0, 'extracting', 10);
  w.update(1, 'staged', 10);
  const snap = w.snapshot(0);
  assert.equal(snap.waitingOn, 'extractor');
  assert.equal(snap.staged, 2);
  assert.equal(snap.stagedBytes, 20);
});

test('an aborted wait for a permit rejects and leaves no waiter behind', async () => {
  const w = new ChunkWindow(1);
  await w.acquire(0, 1);
  const ac = new AbortController();
  const pending = w.acquire(1, 1, ac.signal);
  ac.abort(new Error('cancelled'));
  await assert.rejects(pending, /cancelled/);
  w.release(0);
  await w.acquire(1, 1);
  assert.equal(w.occupied, 1);
});
