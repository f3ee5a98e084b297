#!/usr/bin/env node
// Runs every compiled test file with node's test runner. Node 20's `--test` takes no globs, so the
// file list is collected here. TEST_FILTER=substring narrows the run while developing.
import { readdirSync, statSync } from 'node:fs';
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
// A per-test timeout, so one hung test fails instead of stalling the whole run.
const args = ['--test', '--test-concurrency=2', '--test-timeout=300000', ...(process.env.TEST_REPORTER ? [`--test-reporter=${process.env.TEST_REPORTER}`] : []), ...selected];
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(result.status ?? 1);
