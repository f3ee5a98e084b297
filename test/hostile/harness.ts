// Runs the extractor on an in-memory archive inside a fresh temp folder and reports everything a test
// needs to judge it: the outcome, the warnings, and every path that exists outside the destination.
import { mkdtemp, readdir, lstat, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Extractor, type ExtractOptions, type ExtractResult, type SkippedEntry } from '../../electron/engine/extract/extractor';
import { EngineError } from '../../electron/engine/errors';

export interface Sandbox {
  /** The parent temp folder: holds `dest` and `outside` only. */
  base: string;
  dest: string;
  /** A folder beside the destination that hostile archives aim at; must stay as the test left it. */
  outside: string;
  cleanup(): Promise<void>;
}

export async function sandbox(): Promise<Sandbox> {
  const base = await mkdtemp(join(tmpdir(), 'sm-extract-'));
  const dest = join(base, 'dest');
  const outside = join(base, 'outside');
  await mkdir(dest);
  await mkdir(outside);
  return { base, dest, outside, cleanup: () => rm(base, { recursive: true, force: true }) };
}

export interface RunOutcome {
  result: ExtractResult | null;
  error: EngineError | null;
  warnings: Array<SkippedEntry & { skipped?: boolean }>;
}

/** Feeds `archive` to an Extractor in uneven slices (framing across buffer edges is part of the test). */
export async function extractBuffer(
  archive: Buffer,
  dest: string,
  options: Partial<ExtractOptions> = {},
  sliceSeed = 7,
  /** false: leave the input open, as a download still in progress would. */
  endInput = true,
): Promise<RunOutcome> {
  const warnings: RunOutcome['warnings'] = [];
  const ex = new Extractor({ dest, format: 'auto', ...options, onWarning: (w) => warnings.push(w) });
  let seed = sliceSeed;
  const writeAll = async () => {
    let i = 0;
    while (i < archive.length) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const n = 1 + (seed % 70000);
      const ok = ex.write(archive.subarray(i, i + n));
      i += n;
      if (!ok && !ex.destroyed)
        await new Promise<void>((r) => {
          ex.once('drain', r);
          ex.once('close', r);
        });
      if (ex.destroyed) return;
    }
    if (endInput) ex.end();
  };
  void writeAll();
  try {
    const result = await ex.done();
    return { result, error: null, warnings };
  } catch (err) {
    if (!(err instanceof EngineError)) throw err;
    return { result: null, error: err, warnings };
  } finally {
    if (!endInput) ex.destroy();
  }
}

/**
 * Every path under `dir` (links not followed), relative to it, sorted. Names are walked as bytes (an archive
 * may hold non-UTF-8 ones) and listed decoded as UTF-8 (lossy, for display only).
 */
export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: Buffer, rel: string) => {
    for (const name of await readdir(d, { encoding: 'buffer' })) {
      const full = Buffer.concat([d, Buffer.from('/'), name]);
      const r = rel ? `${rel}/${name.toString('utf8')}` : name.toString('utf8');
      out.push(r);
      const st = await lstat(full);
      if (st.isDirectory()) await walk(full, r);
    }
  };
  await walk(Buffer.from(dir), '');
  return out.sort();
}

/** Paths under the sandbox that are neither the destination's tree nor what the test put outside itself. */
export async function strayPaths(box: Sandbox, expectedOutside: string[] = []): Promise<string[]> {
  const all = await listTree(box.base);
  return all.filter((p) => p !== 'dest' && !p.startsWith('dest/') && p !== 'outside' && !expectedOutside.includes(p));
}
