#!/usr/bin/env node
// Runs every compiled test file with node's test runner. Node 20's `--test` takes no globs, so the
// file list is collected here. TEST_FILTER=substring narrows the run while developing.
// Besides the live report, a TAP copy is read afterwards to list every skipped test with its reason and to
// end on one plain `N passed, N failed, N skipped` line: a skip is visible, never mistaken for a pass.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('../dist/test/', import.meta.url).pathname;
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full);
    else if (name.endsWith('.test.js')) files.push(full);
  }
})(root);
const filter = process.env.TEST_FILTER;
const selected = filter ? files.filter((f) => f.includes(filter)) : files;
if (selected.length === 0) {
  console.error('no test files found under', root);
  process.exit(1);
}
const tapDir = mkdtempSync(join(tmpdir(), 'test-report-'));
const tapFile = join(tapDir, 'report.tap');
const live = process.env.TEST_REPORTER ?? 'spec';
// A per-test timeout, so one hung test fails instead of stalling the whole run.
const args = [
  '--test',
  '--test-concurrency=2',
  '--test-timeout=300000',
  `--test-reporter=${live}`,
  '--test-reporter-destination=stdout',
  '--test-reporter=tap',
  `--test-reporter-destination=${tapFile}`,
  ...selected,
];
// The app's data folder (job lists, completion records) goes to a folder of this run, never the real one.
const env = { ...process.env, XDG_DATA_HOME: join(tapDir, 'data') };
const result = spawnSync(process.execPath, args, { stdio: 'inherit', env });

let tap = '';
try {
  tap = readFileSync(tapFile, 'utf8');
} catch {
  // no report: the runner itself failed; its exit status says so below
}
rmSync(tapDir, { recursive: true, force: true });
const skips = [];
for (const line of tap.split('\n')) {
  const m = /^\s*ok \d+ - (.*?) # SKIP(?: (.*))?$/.exec(line);
  if (m) skips.push(`${m[1]}: ${m[2] ?? 'no reason given'}`);
}
const total = (key) => {
  const hits = [...tap.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))];
  return hits.length ? Number(hits[hits.length - 1][1]) : 0;
};
if (skips.length) {
  console.log(`\nSkipped (${skips.length}):`);
  for (const s of skips) console.log(`  - ${s}`);
}
const failed = total('fail') + total('cancelled');
console.log(`\n${total('pass')} passed, ${failed} failed, ${total('skipped')} skipped`);
process.exit(result.status ?? 1);
