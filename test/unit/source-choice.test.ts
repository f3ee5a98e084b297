// Which source a range goes to, and how long a failing one sits out: the pure parts of the mirrors policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseSource } from '../../electron/engine/transfer/sources/source-choice';
import { newSource, type Source } from '../../electron/engine/transfer/sources/source';
import { benchDelayMs } from '../../electron/engine/transfer/sources/bench';
import { mirrorVerdict } from '../../electron/engine/transfer/sources/mirror-verdict';
import type { ProbeResult } from '../../electron/engine/transfer/probe';
import { DEFAULT_RETRY_POLICY } from '../../electron/engine/transfer/retry-policy';

const probed = (over: Partial<ProbeResult> = {}): ProbeResult => ({
  url: 'https://a.example/s',
  finalUrl: 'https://a.example/s',
  size: 1000,
  rangeSupported: true,
  etag: '"e1"',
  weakEtag: '"e1"',
  lastModified: null,
  contentType: null,
  ...over,
});

function sources(...rates: Array<number | null>): Source[] {
  return rates.map((rate, i) => Object.assign(newSource(i, `https://${i}.example/s`, probed()), { rate }));
}

const never = () => 0.99;

test('a range goes to the source whose throughput, shared by its ranges in flight, promises most; an unmeasured one first', () => {
  const [a, b] = sources(1_000_000, 3_000_000);
  assert.equal(chooseSource([a!, b!], 0, null, never).source, b);
  b!.inflight = 3; // 3 MB/s shared by 4 is less than 1 MB/s alone
  assert.equal(chooseSource([a!, b!], 0, null, never).source, a);
  const [c, d] = sources(1_000_000, null);
  assert.equal(chooseSource([c!, d!], 0, null, never).source, d, 'not measured yet: tried first');
});

test('now and then a random source is tried (so a slow start is measured again); a retry avoids the source that failed', () => {
  const [a, b] = sources(1_000_000, 100);
  let picks = 0;
  for (let i = 0; i < 1000; i++) if (chooseSource([a!, b!], 0, null).source === b) picks++;
  assert.ok(picks > 10 && picks < 200, `the slow source is explored now and then (${picks} of 1000)`);
  const choice = chooseSource([a!, b!], 0, a!, never);
  assert.equal(choice.source, b);
  assert.equal(choice.switched, true);
});

test('benched and dropped sources get no ranges; with none usable, the one back first (the caller backs off)', () => {
  const [a, b] = sources(1_000_000, 1_000_000);
  b!.state = 'dropped';
  assert.equal(chooseSource([a!, b!], 0, a!, never).switched, false, 'nothing to switch to');
  b!.state = 'benched';
  b!.benchedUntil = 500;
  assert.equal(chooseSource([a!, b!], 100, a!, never).switched, false);
  assert.equal(chooseSource([a!, b!], 600, a!, never).source, b, 'its bench over, it is tried again');
  a!.state = 'benched';
  a!.benchedUntil = 900;
  assert.equal(chooseSource([a!, b!], 100, null, never).source, b, 'the one back first');
});

test('the bench doubles with each bench in a row, with jitter, within the cap', () => {
  const p = { ...DEFAULT_RETRY_POLICY, baseMs: 1000, capMs: 8000 };
  assert.equal(
    benchDelayMs(p, 1, () => 0),
    500,
  );
  assert.equal(
    benchDelayMs(p, 1, () => 1),
    1000,
  );
  assert.equal(
    benchDelayMs(p, 3, () => 1),
    4000,
  );
  assert.equal(
    benchDelayMs(p, 10, () => 1),
    8000,
  );
});

test('a mirror is used only if it serves the same file: size, ranges, and a strong ETag unless a checksum judges', () => {
  const primary = probed();
  assert.deepEqual(mirrorVerdict(primary, probed(), false), { use: true, provenSame: true, warning: null });
  assert.match((mirrorVerdict(primary, probed({ size: 999 }), true) as { reason: string }).reason, /999 bytes, the URL 1000/);
  assert.match((mirrorVerdict(primary, probed({ rangeSupported: false }), false) as { reason: string }).reason, /byte ranges/);
  assert.match((mirrorVerdict(primary, probed({ etag: '"e2"' }), false) as { reason: string }).reason, /ETag "e2"/);
  assert.deepEqual(mirrorVerdict(primary, probed({ etag: '"e2"' }), true), { use: true, provenSame: true, warning: null });
  const unverified = mirrorVerdict(primary, probed({ etag: null }), false);
  assert.ok(unverified.use && !unverified.provenSame && /--sha256/.test(unverified.warning ?? ''));
});
