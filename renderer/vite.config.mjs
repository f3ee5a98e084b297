// The renderer's build: plain TSX through Vite's own transform (no plugin needed), relative asset paths
// so Electron can load it from packaged files, and no inline script so the strict CSP holds.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  publicDir: false,
  // The automatic JSX runtime: React is imported by the compiler, not by each file.
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer/', import.meta.url)),
    // dist/renderer also holds the store compiled by tsc for node's tests: the build script clears
    // its own output instead.
    emptyOutDir: false,
    modulePreload: { polyfill: false },
    sourcemap: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1024,
  },
});
