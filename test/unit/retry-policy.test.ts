import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, DEFAULT_RETRY_POLICY, parseRetryAfter } from '../../electron/engine/transfer/retry-policy';

test('backoff grows exponentially, is capped, and uses full jitter', () => {
  const p = DEFAULT_RETRY_POLICY;
  assert.equal(
    backoffDelay(p, 1, () => 0.999999),
    999,
  );
  assert.equal(
    backoffDelay(p, 2, () => 0.999999),
    1999,
  );
  assert.equal(
    backoffDelay(p, 4, () => 0.999999),
    7999,
  );
  assert.equal(
    backoffDelay(p, 30, () => 0.999999),
    59999,
    'capped at 60 s',
  );
  assert.equal(
    backoffDelay(p, 5, () => 0),
    0,
    'full jitter reaches zero',
  );
  const samples = Array.from({ length: 2000 }, () => backoffDelay(p, 3));
  assert.ok(Math.min(...samples) < 400 && Math.max(...samples) > 3600, 'spread over [0, 4 s)');
  assert.ok(samples.every((s) => s >= 0 && s < 4000));
});

test('Retry-After: seconds, HTTP date, garbage, and the cap', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('7', 300_000, now), 7000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', 300_000, now), 30_000);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', 300_000, now), 0, 'a date in the past means now');
  assert.equal(parseRetryAfter('86400', 300_000, now), 300_000, 'capped at 5 min');
  assert.equal(parseRetryAfter('soon', 300_000, now), undefined);
  assert.equal(parseRetryAfter(undefined, 300_000, now), undefined);
  assert.equal(parseRetryAfter(['3', '9'], 300_000, now), 3000);
});
