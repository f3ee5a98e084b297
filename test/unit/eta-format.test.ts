// ETA and durations as the window and the CLI print them, with the figures an outage produced before:
// "3775638092421292d", "1.45e+56d", "3.2e+31:42:08", and hours shown with a minute left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateWindow, counterEta, etaMs, formatEta, pipelineEta, windowRate } from '../../shared/eta';
import { formatDuration as cliDuration } from '../../electron/engine/units';
import { etaMs as jobEta, formatDuration as windowDuration } from '../../renderer/src/store/format';
import { createJobView } from '../../renderer/src/store/job-reducer';

const MiB = 1024 * 1024;
const DAY = 24 * 3600_000;

test('an ETA never falls into exponent notation: the outage figures read "> 99d" or "stalled"', () => {
  for (const ms of [3775638092421292 * DAY, 1.45e56 * DAY, 3.2e31 * 3600_000, Number.MAX_VALUE]) {
    for (const text of [formatEta(ms), cliDuration(ms), windowDuration(ms)]) {
      assert.doesNotMatch(text, /e[+-]?\d/i, `${ms} → ${text}`);
      assert.equal(text, '> 99d');
    }
  }
  // The rates behind them: an exponentially decayed rate during an outage is tiny but not zero.
  assert.equal(etaMs(500 * MiB, 0), 'stalled');
  assert.equal(etaMs(500 * MiB, 1e-300), 'stalled');
  assert.equal(etaMs(500 * MiB, 0.4), 'stalled');
  assert.equal(formatEta('stalled'), 'stalled');
  assert.equal(formatEta(null), '—');
  assert.equal(formatEta(Number.NaN), '—');
});

test('ordinary ETAs: seconds, minutes, hours, days', () => {
  assert.equal(formatEta(0), '0s');
  assert.equal(formatEta(45_000), '45s');
  assert.equal(formatEta(185_000), '3m 05s');
  assert.equal(formatEta(2 * 3600_000 + 7 * 60_000), '2h 07m');
  assert.equal(formatEta(3 * DAY + 4 * 3600_000), '3d 4h');
  assert.equal(cliDuration(62_000), '01:02');
});

test('the rate behind an ETA is averaged over a window: a one-second dip with a minute left does not read as hours', () => {
  const w = new RateWindow(20_000);
  let bytes = 0;
  for (let t = 0; t <= 30_000; t += 1000) {
    // 1 MiB/s, except the last second, where a reconnect brought 10 KiB.
    bytes += t === 30_000 ? 10 * 1024 : MiB;
    w.add(t, bytes);
  }
  const rate = w.rate()!;
  assert.ok(rate > 0.9 * MiB && rate < 1.05 * MiB, `rate ${rate}`);
  const eta = etaMs(60 * MiB, rate) as number;
  assert.ok(eta > 55_000 && eta < 70_000, `ETA ${eta} ms for 60 MiB at about 1 MiB/s`);
  // The instantaneous rate would have said 100 minutes.
  assert.ok((60 * MiB) / (10 * 1024) > 5000);
  assert.equal(windowRate([{ at: 0, bytes: 0 }]), null, 'one sample says nothing');
});

test('a job’s ETA: the slower of download and extraction; stalled only when neither moves', () => {
  const total = 100 * MiB;
  assert.equal(pipelineEta(total, { bytes: 50 * MiB, rate: 0 }, { bytes: 40 * MiB, rate: 0 }), 'stalled');
  assert.equal(pipelineEta(total, { bytes: 50 * MiB, rate: 10 * MiB }, { bytes: 40 * MiB, rate: 5 * MiB }), 12_000);
  assert.equal(pipelineEta(total, { bytes: total, rate: 0 }, { bytes: 80 * MiB, rate: 2 * MiB }), 10_000, 'download finished: the extractor is what is left');
  assert.equal(pipelineEta(total, { bytes: total, rate: 0 }, { bytes: 80 * MiB, rate: 0 }), 'stalled');
  assert.equal(pipelineEta(null, { bytes: 0, rate: 1 }, { bytes: 0, rate: 1 }), null);

  // The window's job view: counters of an outage (nothing moves for 20 s) read "stalled".
  const job = { ...createJobView({ id: 'j', url: 'http://h/s.tar.gz' }), state: 'downloading' as const };
  job.progress = { ...job.progress, bytesTotal: total, bytesCommitted: 30 * MiB, bytesConsumed: 30 * MiB, downloadRate: 1e-200, extractRate: 0 };
  job.counters = Array.from({ length: 21 }, (_, i) => ({ at: i * 1000, committed: 30 * MiB, consumed: 30 * MiB }));
  assert.equal(jobEta(job), 'stalled');
  job.counters = Array.from({ length: 21 }, (_, i) => ({ at: i * 1000, committed: 10 * MiB + i * MiB, consumed: 10 * MiB + i * MiB }));
  assert.equal(formatEta(jobEta(job)), '1m 10s');
});

test('five seconds without a byte read "stalled" at once, though the 20 s average still says something', () => {
  const committed = [];
  const consumed = [];
  for (let t = 0; t <= 20_000; t += 1000) {
    const b = Math.min(t, 14_000) * 1024; // 1 MB/s until 14 s, then nothing
    committed.push({ at: t, bytes: b });
    consumed.push({ at: t, bytes: b });
  }
  assert.ok((windowRate(committed) ?? 0) > 100_000, 'the average alone would still promise an ETA');
  assert.equal(counterEta(100 * MiB, committed, consumed), 'stalled');
  // Moving again: an estimate comes back.
  committed.push({ at: 21_000, bytes: 16_000 * 1024 });
  consumed.push({ at: 21_000, bytes: 16_000 * 1024 });
  assert.equal(typeof counterEta(100 * MiB, committed, consumed), 'number');
});
