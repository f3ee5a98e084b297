#!/usr/bin/env node
// Builds the React renderer with Vite into dist/renderer (served by Electron and by `serve`).
import { existsSync } from 'node:fs';
import { build } from 'vite';

const root = new URL('../renderer/', import.meta.url).pathname;
if (!existsSync(root + 'index.html')) {
  console.error('renderer/index.html is missing');
  process.exit(1);
}
await build({ configFile: root + 'vite.config.mjs', logLevel: 'warn' });
