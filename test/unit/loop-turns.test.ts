import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOOP_TURN_MS, LoopTurns } from '../../electron/engine/extract/writer/loop-turns';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // synchronous member work
  }
}

test('synchronous member work gives the event loop a turn once LOOP_TURN_MS have passed, not before', async () => {
  const turns = new LoopTurns();
  assert.equal(turns.maybe(), null, 'no turn right away');
  let ioRan = false;
  setImmediate(() => {
    ioRan = true;
  });
  busy(LOOP_TURN_MS + 5);
  const turn = turns.maybe();
  assert.ok(turn, 'a turn is due');
  assert.equal(ioRan, false);
  await turn;
  assert.equal(ioRan, true, 'what was queued on the loop ran during the turn');
  assert.equal(turns.maybe(), null, 'the budget starts again after a turn');
});
