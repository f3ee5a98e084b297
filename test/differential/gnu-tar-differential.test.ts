// Differential test: every archive of the corpus (corpus.ts) is extracted by GNU tar and by the Extractor
// into two temp folders, and the trees must match: path bytes, type, mode, size, content, link target,
// hardlink count, mtime of files and links, and for sparse files the holes (allocated blocks, loosely, where GNU tar's result has
// holes). The only differences allowed are the documented refusals, by name (ALLOWED_DIFFERENCES).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { EngineError } from '../../electron/engine/errors';
import { Extractor } from '../../electron/engine/extract/extractor';
import { ALLOWED_DIFFERENCES, handBuilt, makeSourceTree, toolArchives, type CorpusArchive } from './corpus';

interface Node {
  type: 'file' | 'dir' | 'symlink' | 'fifo' | 'other';
  mode: number;
  size: number;
  sha256: string | null;
  target: string | null;
  nlink: number;
  /** Files and symlinks: whole seconds. */
  mtime: number;
  /** 512-byte blocks allocated (files). */
  blocks: number;
}

/** The tree below `root`, keyed by the hex of each relative path's bytes (names need not be UTF-8). */
function snapshot(root: string): Map<string, Node> {
  const out = new Map<string, Node>();
  const walk = (dir: Buffer, rel: Buffer | null) => {
    const names = readdirSync(dir, { encoding: 'buffer' }).sort(Buffer.compare);
    for (const name of names) {
      const full = Buffer.concat([dir, Buffer.from('/'), name]);
      const r = rel ? Buffer.concat([rel, Buffer.from('/'), name]) : name;
      const st = lstatSync(full);
      const type = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isFIFO() ? 'fifo' : 'other';
      out.set(r.toString('hex'), {
        type,
        mode: st.mode & 0o7777,
        size: type === 'file' ? st.size : 0,
        sha256: type === 'file' ? createHash('sha256').update(readFileSync(full)).digest('hex') : null,
        target: type === 'symlink' ? readlinkSync(full, { encoding: 'buffer' }).toString('hex') : null,
        nlink: type === 'file' ? st.nlink : 0,
        mtime: type === 'file' || type === 'symlink' ? Math.floor(st.mtimeMs / 1000) : 0,
        blocks: type === 'file' ? st.blocks : 0,
      });
      if (type === 'dir') walk(full, r);
    }
  };
  walk(Buffer.from(root), null);
  return out;
}

const show = (hex: string) => JSON.stringify(Buffer.from(hex, 'hex').toString('latin1'));

async function ours(archive: string, dest: string): Promise<{ error: EngineError | null; warnings: string[] }> {
  const warnings: string[] = [];
  const ex = new Extractor({ dest, format: 'auto', onWarning: (w) => warnings.push(w.code) });
  try {
    await pipeline(createReadStream(archive), ex);
    await ex.done();
    return { error: null, warnings };
  } catch (err) {
    if (err instanceof EngineError) return { error: err, warnings };
    throw err;
  }
}

function gnu(archive: string, dest: string): void {
  mkdirSync(dest);
  // As root GNU tar would keep owners and exact modes; extract as an ordinary user would (umask applied).
  spawnSync('tar', ['-xf', archive, '-C', dest, '--no-same-owner', '--no-same-permissions'], { env: { ...process.env, LC_ALL: 'C.UTF-8' } });
}

/** Differences between the two trees, as readable lines (empty: they match). */
function compare(g: Map<string, Node>, u: Map<string, Node>, allowed: Set<string>): { failures: string[]; allowedSeen: string[]; holeChecks: number } {
  const failures: string[] = [];
  let holeChecks = 0;
  const allowedSeen: string[] = [];
  for (const key of new Set([...g.keys(), ...u.keys()])) {
    const a = g.get(key);
    const b = u.get(key);
    const name = Buffer.from(key, 'hex').toString('latin1');
    const differs = (what: string) => {
      if (allowed.has(name)) allowedSeen.push(name);
      else failures.push(`${show(key)}: ${what}`);
    };
    if (!a || !b) {
      differs(a ? 'GNU tar extracted it, we did not' : 'we extracted it, GNU tar did not');
      continue;
    }
    for (const k of ['type', 'mode', 'size', 'sha256', 'target', 'nlink', 'mtime'] as const) {
      if (a[k] !== b[k]) differs(`${k} ${String(a[k])} (GNU tar) vs ${String(b[k])} (ours)`);
    }
    // Holes: where GNU tar's file has fewer blocks than its size needs, ours must have about as few.
    if (a.type === 'file' && a.blocks * 512 < a.size) {
      holeChecks++;
      if (b.blocks > a.blocks * 1.5 + 64) differs(`holes: GNU tar allocates ${a.blocks} blocks, we allocate ${b.blocks}`);
    }
  }
  return { failures, allowedSeen, holeChecks };
}

test('differential: every corpus archive extracts to the same tree as GNU tar (documented refusals aside)', async () => {
  const base = mkdtempSync(join(tmpdir(), 'sm-diff-'));
  const started = Date.now();
  try {
    const src = join(base, 'src');
    mkdirSync(src);
    makeSourceTree(src);
    const archives: CorpusArchive[] = [...toolArchives(src, base), ...handBuilt(base)];
    const allowed = new Set(Object.keys(ALLOWED_DIFFERENCES));
    let matched = 0;
    let allowedDiffs = 0;
    let holeChecks = 0;
    const failures: string[] = [];
    for (const [i, a] of archives.entries()) {
      const g = join(base, `g${i}`);
      const u = join(base, `u${i}`);
      gnu(a.path, g);
      const r = await ours(a.path, u);
      const problems: string[] = [];
      if ((r.error?.code ?? undefined) !== a.expectError)
        problems.push(`outcome ${r.error ? `${r.error.code}: ${r.error.message}` : 'success'}, expected ${a.expectError ?? 'success'}`);
      for (const w of a.expectWarnings ?? []) if (!r.warnings.includes(w)) problems.push(`no ${w} warning (got ${r.warnings.join(', ') || 'none'})`);
      const d = compare(snapshot(g), snapshot(u), allowed);
      problems.push(...d.failures);
      allowedDiffs += new Set(d.allowedSeen).size;
      holeChecks += d.holeChecks;
      if (problems.length === 0) matched++;
      else failures.push(`${a.name} (${a.writer}, ${a.format}):\n  ${problems.join('\n  ')}`);
      rmSync(g, { recursive: true, force: true });
      rmSync(u, { recursive: true, force: true });
    }
    const writers = new Set(archives.map((a) => a.writer));
    console.log(
      `differential corpus: ${archives.length} archives from ${writers.size} writers (${[...writers].join(', ')}); ` +
        `${matched} matched GNU tar, ${allowedDiffs} documented refusals seen, ${failures.length} failures; ` +
        `${holeChecks} sparse files checked for holes; ${Date.now() - started} ms`,
    );
    assert.deepEqual(failures, [], failures.join('\n'));
    // The refusals must really occur in the corpus (else the list above says nothing).
    assert.ok(allowedDiffs > 0, 'no documented refusal was exercised');
    assert.ok(holeChecks >= 20, `only ${holeChecks} sparse results had holes to compare`);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
