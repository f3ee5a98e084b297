// Where the built renderer and the screenshots live, from the compiled test's location
// (dist/test/e2e/helpers → the repository root).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');
export const RENDERER_DIST = join(REPO_ROOT, 'dist', 'renderer');
export const SCREENSHOTS = join(REPO_ROOT, 'docs', 'screenshots');
export const CLI = join(REPO_ROOT, 'dist', 'electron', 'cli.js');

/** `npm test` builds the renderer first; a filtered run may not have, so build it once here. */
export function ensureRendererBuilt(): void {
  if (existsSync(join(RENDERER_DIST, 'index.html'))) return;
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build-renderer.mjs')], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error('building the renderer failed');
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return join(SCREENSHOTS, name);
}
