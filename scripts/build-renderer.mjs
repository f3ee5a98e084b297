#!/usr/bin/env node
// Builds the React renderer with Vite into dist/renderer (served by Electron and by `serve`).
// dist/renderer/src holds the store compiled by tsc for node's tests, so only Vite's own output is
// cleared here (Vite's emptyOutDir would take the store with it).
import { existsSync, rmSync } from 'node:fs';
import { build } from 'vite';

const root = new URL('../renderer/', import.meta.url).pathname;
const out = new URL('../dist/renderer/', import.meta.url).pathname;
if (!existsSync(root + 'index.html')) {
  console.error('renderer/index.html is missing');
  process.exit(1);
}
rmSync(out + 'assets', { recursive: true, force: true });
rmSync(out + 'index.html', { force: true });
await build({ configFile: root + 'vite.config.mjs', logLevel: 'warn' });
