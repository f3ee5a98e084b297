// Resume at the awkward points of a hand-built archive: inside a global pax record (a fresh parser must
// be told it again), inside a skipped member's data, inside a pax-named member, in a resumed file's
// data; that zstd is checkpointable too, what checkpoint() says at the end of the archive, and for an unusable checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { Extractor, type ExtractCheckpoint } from '../../electron/engine/extract/extractor';
import { assertTreesEqual, incompressibleBytes, prng, textBytes } from '../helpers/archives';
import { paxHeader, paxRecord, tarArchive, type RawEntry } from '../hostile/tar-builder';
import { countEntries, extractWithCheckpoints, resume } from './extract-resume-harness';

const GLOBAL_MTIME = 1_600_000_000;
const PAX_NAME = `d/${'p'.repeat(150)}.txt`;

function archive(): Buffer {
  const rand = prng(3);
  const members: Array<RawEntry | Buffer> = [
    { name: 'GlobalHead.0', type: 'g', data: paxRecord('mtime', String(GLOBAL_MTIME)) },
    { name: 'd/', type: '5', mode: 0o750 },
    { name: 'd/big.bin', data: incompressibleBytes(3, 'big', 600_000), mode: 0o640 },
    { name: '../escape.bin', data: incompressibleBytes(3, 'escape', 700_000) },
    paxHeader({ path: PAX_NAME }),
    { name: 'short-name-replaced-by-pax', data: textBytes(rand, 5_000) },
    { name: 'd/link', type: '2', linkname: 'big.bin' },
    { name: 'd/hard', type: '1', linkname: 'd/big.bin' },
    { name: 'd/empty', data: '' },
  ];
  for (let i = 0; i < 40; i++) members.push({ name: `d/s-${i}`, data: textBytes(rand, Math.floor(rand() * 2000)), mode: 0o600 });
  return tarArchive(members);
}

function replayType(cp: ExtractCheckpoint): string | null {
  const replay = Buffer.from(cp.tar.replay ?? '', 'base64');
  return replay.length > 156 ? String.fromCharCode(replay[156]!) : null;
}

function replayBytes(cp: ExtractCheckpoint): number {
  return cp.tar.replay === null ? -1 : Buffer.byteLength(cp.tar.replay, 'base64');
}

/** mtime (whole seconds) of every regular file, for what compareTrees leaves out. */
function fileTimes(root: string, rel = ''): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of readdirSync(join(root, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(root, r));
    if (st.isDirectory()) Object.assign(out, fileTimes(root, r));
    else if (st.isFile()) out[r] = Math.floor(st.mtimeMs / 1000);
  }
  return out;
}

// The first record ends at byte 1024: small writes there.
const points: Array<[string, (cp: ExtractCheckpoint) => boolean, number?, number?]> = [
  ['inside the global pax record', (cp) => replayType(cp) === 'g', 700],
  // The crash comes at the end of the input, after `d/hard` made a second name for the file resumed.
  [
    'regression: inside a file that a later hardlink member linked to before the crash',
    (cp) => cp.tar.member?.key === 'd/big.bin' && cp.tar.member.dataRemaining > 0,
    3000,
    100_000,
  ],
  ['inside a skipped member’s data', (cp) => cp.tar.member !== null && cp.tar.member.key === null && cp.tar.member.dataRemaining > 0],
  ['inside a file’s data', (cp) => cp.tar.member?.key === 'd/big.bin' && cp.tar.member.dataRemaining > 0],
  ['inside a local pax record, after the global one', (cp) => replayType(cp) === 'x'],
  ['inside a small file after the global record', (cp) => cp.tar.framer.globalPaxRecord !== null && replayType(cp) === '0'],
  ['inside a member header', (cp) => replayBytes(cp) > 0 && replayBytes(cp) < 512],
];

test('resume inside a global pax record, a skipped member, a pax-named member and a file gives the uninterrupted tree', async () => {
  const tar = archive();
  const base = mkdtempSync(join(tmpdir(), 'sm-resume-edges-'));
  try {
    const reference = join(base, 'reference');
    const whole = await countEntries(tar, reference, true);
    assert.equal(whole.skipped.length, 1, 'the escaping member is skipped');
    const times = fileTimes(reference);
    assert.equal(times[PAX_NAME], GLOBAL_MTIME, 'the pax-named member takes its mtime from the global record');
    for (const [label, pick, maxWrite, extraWrites] of points) {
      let resumedFrom = 0;
      for (let seed = 1; seed <= 6 && resumedFrom < 2; seed++) {
        const dest = join(base, `resume-${seed}`);
        const run = await extractWithCheckpoints(tar, dest, { seed, maxWrite: maxWrite ?? 3000, skipShare: 0.3, crash: { pick, extraWrites: extraWrites ?? seed % 3 } });
        if (!run.picked) {
          rmSync(dest, { recursive: true, force: true });
          continue;
        }
        const r = await resume(tar, dest, run.picked, seed);
        assert.equal(r.bytesIn, tar.length - run.picked.compressedOffset, label);
        assert.equal(r.entries, whole.entries, `${label}: entries`);
        assert.deepEqual(r.skipped, whole.skipped, `${label}: skipped`);
        assertTreesEqual(reference, dest);
        assert.deepEqual(fileTimes(dest), times, `${label}: mtimes`);
        rmSync(dest, { recursive: true, force: true });
        resumedFrom++;
      }
      assert.ok(resumedFrom > 0, `no checkpoint landed ${label}`);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('zstd is checkpointable: checkpoint() resolves with a zstd decoder point, no reason given', async () => {
  const base = mkdtempSync(join(tmpdir(), 'sm-resume-zstd-'));
  try {
    const zst = execFileSync('zstd', ['-q', '-c'], { input: archive(), maxBuffer: 64 * 1024 * 1024 });
    const ex = new Extractor({ dest: join(base, 'out'), format: 'auto' });
    await new Promise<void>((resolve, reject) => ex.write(zst.subarray(0, 1000), (err) => (err ? reject(err) : resolve())));
    const cp = ex.checkpoint();
    ex.end(zst.subarray(1000));
    const point = await cp;
    assert.equal(ex.checkpointUnsupportedReason, null);
    assert.equal(point?.decoder.format, 'zstd');
    await ex.done();
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a checkpoint still pending when the archive ends resolves null; gzip and tar extraction is checkpointable', async () => {
  const base = mkdtempSync(join(tmpdir(), 'sm-resume-end-'));
  try {
    const gz = zlib.gzipSync(archive());
    const ex = new Extractor({ dest: join(base, 'out'), format: 'auto' });
    await new Promise<void>((resolve, reject) => ex.write(gz, (err) => (err ? reject(err) : resolve())));
    assert.equal(ex.checkpointUnsupportedReason, null);
    const cp = ex.checkpoint();
    assert.equal(ex.checkpointInProgress, 'awaiting-point');
    ex.end();
    assert.equal(await cp, null);
    await ex.done();
    assert.equal(ex.checkpointInProgress, null);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a checkpoint that does not add up is refused with E_JOURNAL before anything is written', async () => {
  const tar = archive();
  const base = mkdtempSync(join(tmpdir(), 'sm-resume-bad-'));
  try {
    const run = await extractWithCheckpoints(tar, join(base, 'first'), { seed: 1, maxWrite: 50_000 });
    const cp = run.checkpoints.find((c) => c.tar.member !== null)!;
    assert.ok(cp, 'a checkpoint inside a member');
    const bad = { ...cp, uncompressedOffset: cp.uncompressedOffset + 1, compressedOffset: cp.compressedOffset + 1 };
    const ex = new Extractor({ dest: join(base, 'second'), format: 'auto', resumeFrom: bad });
    ex.end(tar.subarray(bad.compressedOffset));
    await assert.rejects(ex.done(), (err: { code?: string }) => err.code === 'E_JOURNAL');
    assert.throws(() => lstatSync(join(base, 'second')));
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
