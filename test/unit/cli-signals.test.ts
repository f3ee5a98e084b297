// One Ctrl-C often reaches the CLI twice (the terminal signals the process group, npm forwards it to its
// child too): the copy must not count as a second Ctrl-C that exits before the cleanup, and once the
// command has stopped a late copy must not kill the process by the signal (it would exit 130, not 3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DUPLICATE_MS, watchInterrupts } from '../../electron/cli/signals';

function listeners(): number {
  return process.listenerCount('SIGINT') + process.listenerCount('SIGTERM');
}

test('a Ctrl-C delivered twice (group and npm forward) stops once and does not force the exit', () => {
  let clock = 1_000;
  const calls: string[] = [];
  const before = listeners();
  const earlier = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
  const w = watchInterrupts(
    () => calls.push('stop'),
    () => calls.push('force'),
    () => clock,
  );
  assert.equal(listeners(), before + 2);
  process.emit('SIGINT');
  clock += 5;
  process.emit('SIGINT');
  clock += DUPLICATE_MS - 10;
  process.emit('SIGTERM');
  assert.deepEqual(calls, ['stop']);
  assert.equal(w.interrupted, true);
  // A second Ctrl-C later is the operator insisting: exit at once.
  clock += 20;
  process.emit('SIGINT');
  assert.deepEqual(calls, ['stop', 'force']);
  // After the command stopped, the watch stays so a late copy cannot kill the exit by the signal.
  w.dispose();
  assert.equal(listeners(), before + 2);
  for (const s of ['SIGINT', 'SIGTERM'] as const)
    process
      .listeners(s)
      .filter((l) => !earlier[s].includes(l))
      .forEach((l) => process.off(s, l));
});

test('a command that was never interrupted leaves no signal listener behind', () => {
  const before = listeners();
  const w = watchInterrupts(
    () => assert.fail('no signal came'),
    () => assert.fail('no signal came'),
  );
  w.dispose();
  assert.equal(listeners(), before);
  assert.equal(w.interrupted, false);
});
