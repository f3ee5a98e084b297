// What the journal's output records say is durable in a download written in place, folded in order, and what
// of it a restart keeps once the file is looked at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseRecord, contiguousBytes, durableOutputFrom, durableOutputOf, stillInOutput, type OutputRecord } from '../../electron/engine/staging/output-record';

const CHUNK = 100;
const SIZE = 1_050;
const lengthOf = (i: number) => Math.min(CHUNK, SIZE - i * CHUNK);
const file = { dev: 1, ino: 2 };

test('output records fold in order: a base starts over, later prefixes win, 0 retracts', () => {
  const records: OutputRecord[] = [
    {
      t: 'output',
      chunks: [
        [0, 100],
        [3, 40],
      ],
      file,
    },
    { t: 'output', base: true, upTo: 2, chunks: [[5, 30]], file },
    {
      t: 'output',
      chunks: [
        [5, 70],
        [6, 10],
      ],
      file,
    },
    { t: 'output', chunks: [[6, 0]], file },
  ];
  const d = durableOutputOf([{ t: 'attempt' }, ...records], lengthOf);
  assert.deepEqual(
    [...d.chunks].sort((a, b) => a[0] - b[0]),
    [
      [0, 100],
      [1, 100],
      [5, 70],
    ],
  );
  assert.deepEqual(d.file, file);
  assert.equal(contiguousBytes(d.chunks, CHUNK, SIZE), 200);
});

test('a state from before (chunks appended in order) reads as its first chunks durable, the last one short', () => {
  const d = durableOutputFrom([], 11, CHUNK, SIZE);
  assert.equal(d.chunks.size, 11);
  assert.equal(d.chunks.get(10), 50);
  assert.equal(contiguousBytes(d.chunks, CHUNK, SIZE), SIZE);
});

test('a base record says a long contiguous prefix in one number: 100,000 kept chunks fit a journal record (1 MiB at most)', () => {
  const size = 100_000 * CHUNK + 20;
  const len = (i: number) => Math.min(CHUNK, size - i * CHUNK);
  const kept = new Map<number, number>();
  for (let i = 0; i < 100_000; i++) kept.set(i, CHUNK);
  kept.set(100_003, 7);
  const record = baseRecord(kept, len, file);
  assert.equal(record.upTo, 100_000);
  assert.deepEqual(record.chunks, [[100_003, 7]]);
  assert.ok(JSON.stringify(record).length < 200);
  assert.equal(durableOutputOf([record], len).chunks.size, 100_001);
});

test('what a restart keeps: nothing of another file or a missing one; up to its end of a truncated one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-outrec-'));
  try {
    const path = join(dir, 'out.bin');
    writeFileSync(path, Buffer.alloc(SIZE));
    const st = statSync(path);
    const durable = {
      chunks: new Map([
        [0, 100],
        [1, 100],
        [4, 60],
      ]),
      file: { dev: st.dev, ino: st.ino },
    };
    assert.deepEqual(await stillInOutput(path, durable, CHUNK), { chunks: durable.chunks, why: null });
    truncateSync(path, 430);
    const cut = await stillInOutput(path, durable, CHUNK);
    assert.deepEqual(
      [...cut.chunks],
      [
        [0, 100],
        [1, 100],
        [4, 30],
      ],
    );
    assert.match(cut.why!, /shorter/);
    const other = await stillInOutput(path, { ...durable, file: { dev: st.dev, ino: st.ino + 1 } }, CHUNK);
    assert.equal(other.chunks.size, 0);
    assert.match(other.why!, /another file/);
    rmSync(path);
    assert.match((await stillInOutput(path, durable, CHUNK)).why!, /gone/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
