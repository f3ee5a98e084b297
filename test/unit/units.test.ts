import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseSize } from '../../electron/engine/units';
import { EngineError } from '../../electron/engine/errors';

test('sizes with K/M/G/T suffixes', () => {
  assert.equal(parseSize('64M', 'x'), 64 * 1024 * 1024);
  assert.equal(parseSize('512k', 'x'), 512 * 1024);
  assert.equal(parseSize('1.5G', 'x'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('100000', 'x'), 100000);
  assert.equal(parseSize('2MiB', 'x'), 2 * 1024 * 1024);
  assert.equal(parseSize('1T', 'x'), 1024 ** 4);
});

test('bad sizes are usage errors that say what to write', () => {
  for (const bad of ['', 'abc', '-1M', '10X', '0', '1.2.3M']) {
    assert.throws(
      () => parseSize(bad, '--chunk-size'),
      (err: unknown) => err instanceof EngineError && err.code === 'E_USAGE' && /--chunk-size/.test(err.message),
    );
  }
});

test('durations render as mm:ss or h:mm:ss', () => {
  assert.equal(formatDuration(61_000), '01:01');
  assert.equal(formatDuration(3_725_000), '1:02:05');
  assert.equal(formatDuration(Infinity), '--:--');
});
