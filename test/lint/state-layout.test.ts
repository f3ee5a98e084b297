// The names of a job's state files live in engine/state/layout.ts only: the writers, the status reader and the
// cleanup after completion must agree on them (a literal renamed in one file alone orphans files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { CHECKPOINT_FILE, HEADERS_FILE, JOB_FILE, JOB_LOG_FILE, JOURNAL_FILE, MIRRORS_FILE, PARTS_FILE } from '../../electron/engine/state/layout';

const repoRoot = resolve(__dirname, '..', '..', '..');
const LAYOUT = 'electron/engine/state/layout.ts';
const NAMES = [JOB_FILE, CHECKPOINT_FILE, JOURNAL_FILE, PARTS_FILE, JOB_LOG_FILE, HEADERS_FILE, MIRRORS_FILE];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sources(full));
    else if (name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/** `file: 'name'` for each state-file name written as a string literal (in single or double quotes; backticks are how comments name them) outside layout.ts. */
export function stateNameLiterals(files: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    if (file === LAYOUT) continue;
    for (const name of NAMES) {
      for (const q of ["'", '"']) if (text.includes(`${q}${name}${q}`)) found.push(`${file}: ${name}`);
    }
  }
  return found;
}

test('the layout check catches a state-file name written outside layout.ts', () => {
  assert.deepEqual(stateNameLiterals({ 'electron/engine/x.ts': "join(dir, 'journal.log')", [LAYOUT]: "export const JOURNAL_FILE = 'journal.log';" }), [
    'electron/engine/x.ts: journal.log',
  ]);
  assert.deepEqual(stateNameLiterals({ 'electron/engine/y.ts': '// the journal.log of the job, in a comment' }), []);
});

test('state-file names are spelled only in engine/state/layout.ts (engine, host, CLI, transports)', () => {
  const files: Record<string, string> = {};
  for (const f of sources(join(repoRoot, 'electron'))) files[relative(repoRoot, f)] = readFileSync(f, 'utf8');
  assert.deepEqual(stateNameLiterals(files), []);
});
