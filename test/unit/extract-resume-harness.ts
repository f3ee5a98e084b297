// Shared by the resume tests: extraction with checkpoints asked for after writes, a simulated crash
// after a given checkpoint, and resume from a checkpoint with only the bytes after it.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Extractor, type ExtractCheckpoint, type ExtractOptions } from '../../electron/engine/extract/extractor';
import { prng } from '../helpers/archives';

/** Where in the tar structure a checkpoint landed. */
export type Kind = 'member-data' | 'member-padding' | 'sequence-start' | 'in-header' | 'in-long-record' | 'in-small-file' | 'end';

export function kindOf(cp: ExtractCheckpoint): Kind {
  const t = cp.tar;
  if (t.member) return t.member.dataRemaining > 0 ? 'member-data' : 'member-padding';
  if (t.framer.state === 'end') return 'end';
  const replay = Buffer.from(t.replay ?? '', 'base64');
  if (replay.length === 0) return 'sequence-start';
  if (replay.length < 512) return 'in-header';
  const type = String.fromCharCode(replay[156]!);
  if ('LKxg'.includes(type)) return 'in-long-record';
  return replay.length > 512 ? 'in-small-file' : 'in-header';
}

/** Writes `input` in pieces of the given sizes, waiting for each; calls `between` after each one. */
export async function feed(ex: Extractor, input: Buffer, sizes: () => number, between: (fed: number) => boolean | void | Promise<boolean | void>): Promise<void> {
  for (let at = 0; at < input.length; ) {
    const n = Math.min(input.length - at, sizes());
    await new Promise<void>((resolve, reject) => ex.write(input.subarray(at, at + n), (err) => (err ? reject(err) : resolve())));
    at += n;
    if ((await between(at)) === false) return;
  }
}

export interface Run {
  /** Checkpoints in the order they resolved. */
  checkpoints: ExtractCheckpoint[];
  /** With `crash`: the checkpoint the crash came after (null when none was picked before the input ran out). */
  picked: ExtractCheckpoint | null;
  /** Mean time from asking to resolving. */
  msPerCheckpoint: number;
}

export interface CheckpointRunOptions {
  seed: number;
  /** Largest write (writes are 1..maxWrite bytes). */
  maxWrite?: number;
  /** Share of writes after which no checkpoint is asked for (plain tar could stop after every one). */
  skipShare?: number;
  /** Stop (destroy the extractor, files left as they are) `extraWrites` writes after the checkpoint `pick` chooses. */
  crash?: { pick: (cp: ExtractCheckpoint) => boolean; extraWrites: number };
}

/** Extracts `archive` into `dest`, asking for the next checkpoint after writes while none is pending. */
export async function extractWithCheckpoints(archive: Buffer, dest: string, o: CheckpointRunOptions): Promise<Run> {
  const sizeRand = prng(o.seed);
  const askRand = prng(o.seed + 1);
  const maxWrite = o.maxWrite ?? 24_000;
  const ex = new Extractor({ dest, format: 'auto' });
  const checkpoints: ExtractCheckpoint[] = [];
  let picked: ExtractCheckpoint | null = null;
  let countdown = -1;
  let waitMs = 0;
  let outstanding: Promise<unknown> | null = null;
  const ask = () => {
    // Calls while one is pending share it: ask again only once it has resolved.
    if (outstanding || picked || (checkpoints.length > 0 && askRand() < (o.skipShare ?? 0))) return;
    const t0 = performance.now();
    outstanding = ex.checkpoint().then(
      (cp) => {
        outstanding = null;
        if (!cp) return;
        const copy = JSON.parse(JSON.stringify(cp)) as ExtractCheckpoint;
        checkpoints.push(copy);
        waitMs += performance.now() - t0;
        if (o.crash && !picked && o.crash.pick(copy)) {
          picked = copy;
          countdown = o.crash.extraWrites;
        }
      },
      () => undefined,
    );
  };
  ask();
  await feed(
    ex,
    archive,
    () => 1 + Math.floor(sizeRand() * maxWrite),
    async () => {
      // A checkpoint being fsynced would let a small archive end before the next one: wait for it
      // (extraction itself does not; this only spreads checkpoints over the archive).
      if (ex.checkpointInProgress === 'syncing') await outstanding;
      if (picked && countdown-- <= 0) return false;
      ask();
    },
  );
  if (o.crash) {
    // All input fed without a crash yet: let the members in flight be written first (a crash near the end).
    if (!picked || countdown >= 0) await new Promise((resolve) => setTimeout(resolve, 300));
    ex.destroy();
    await ex.done().then(
      () => assert.fail('a destroyed extractor must not succeed'),
      (err: { code?: string }) => assert.equal(err.code, 'E_ABORTED'),
    );
    return { checkpoints, picked, msPerCheckpoint: 0 };
  }
  ex.end();
  await ex.done();
  return { checkpoints, picked: null, msPerCheckpoint: waitMs / Math.max(1, checkpoints.length) };
}

/** Resumes from `cp` into `dest`, feeding only the bytes from cp.compressedOffset on, in random pieces. */
export async function resume(
  archive: Buffer,
  dest: string,
  cp: ExtractCheckpoint,
  seed: number,
  options: Partial<ExtractOptions> = {},
): Promise<{ bytesIn: number; entries: number; bytesWritten: number; skipped: unknown[] }> {
  const rand = prng(seed);
  const ex = new Extractor({ dest, format: 'auto', ...options, resumeFrom: JSON.parse(JSON.stringify(cp)) as ExtractCheckpoint });
  const rest = archive.subarray(cp.compressedOffset);
  await feed(
    ex,
    rest,
    () => 1 + Math.floor(rand() * 40_000),
    () => undefined,
  );
  ex.end();
  const result = await ex.done();
  return { bytesIn: ex.bytesIn, entries: result.entries, bytesWritten: result.bytesWritten, skipped: result.skipped };
}

/** One uninterrupted extraction into `dest` (kept when `keep`): its counters are what a resumed one must reach. */
export async function countEntries(archive: Buffer, dest: string, keep = false): Promise<{ entries: number; bytesWritten: number; skipped: unknown[] }> {
  const ex = new Extractor({ dest, format: 'auto' });
  ex.end(archive);
  const r = await ex.done();
  if (!keep) rmSync(dest, { recursive: true, force: true });
  return { entries: r.entries, bytesWritten: r.bytesWritten, skipped: r.skipped };
}
