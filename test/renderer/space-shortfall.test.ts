// The window's "Not enough space" figures come from the engine's refusal up front (E_DISK_FULL with the
// filesystem, free and needed bytes); a write that hit ENOSPC mid-job has no total and keeps the plain message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spaceShortfall } from '../../renderer/src/store/space-shortfall';

const MiB = 1024 * 1024;
const refusal = { code: 'E_DISK_FULL', message: 'Not enough free space…', retryable: true, causes: [], details: { path: '/data', free: 4 * MiB, needed: 6 * MiB } };

test('space shortfall: the refusal up front in figures; mid-write ENOSPC, other states and other errors give none', () => {
  assert.deepEqual(spaceShortfall({ state: 'paused', reason: 'disk-full', error: refusal }), { path: '/data', free: 4 * MiB, needed: 6 * MiB, short: 2 * MiB });
  const midWrite = { ...refusal, details: { path: '/data/node/x.ldb', bytesNeeded: MiB } };
  assert.equal(spaceShortfall({ state: 'paused', reason: 'disk-full', error: midWrite }), null);
  assert.equal(spaceShortfall({ state: 'downloading', reason: null, error: refusal }), null, 'once it runs again');
  assert.equal(spaceShortfall({ state: 'paused', reason: 'disk-full', error: { ...refusal, code: 'E_HTTP_STATUS' } }), null);
  assert.equal(spaceShortfall({ state: 'paused', reason: 'disk-full', error: { ...refusal, details: { path: '/data', free: 7 * MiB, needed: 6 * MiB } } }), null, 'room by now');
});
