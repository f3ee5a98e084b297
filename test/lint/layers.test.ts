// The layers of the tree, enforced: engine (plain Node) below the host (job manager, model, coalescer, the
// contract's dispatch) below the transports and the desktop adapter; shared/ is the contract every side is
// typed from; the renderer sees only shared/. A new import that points up a layer fails here, with the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const repoRoot = resolve(__dirname, '..', '..', '..');

type Layer = 'engine' | 'host' | 'transport' | 'desktop' | 'entry' | 'adapter' | 'shared' | 'renderer' | 'harness' | 'bench' | 'tests' | 'outside';

function layerOf(path: string): Layer {
  const r = relative(repoRoot, path).replace(/\\/g, '/');
  if (r.startsWith('electron/engine/')) return 'engine';
  if (r.startsWith('electron/host/')) return 'host';
  if (r.startsWith('electron/transport/')) return 'transport';
  if (r.startsWith('electron/desktop/')) return 'desktop';
  if (r === 'electron/main.ts' || r === 'electron/preload.ts') return 'adapter';
  if (r.startsWith('electron/')) return 'entry';
  if (r.startsWith('shared/')) return 'shared';
  if (r.startsWith('renderer/')) return 'renderer';
  if (r.startsWith('harness/')) return 'harness';
  if (r.startsWith('bench/')) return 'bench';
  if (r.startsWith('test/')) return 'tests';
  return 'outside';
}

/** What each layer may import: other layers, and packages by name ('node:' builtins where listed). */
const ALLOWED: Record<Exclude<Layer, 'outside'>, { layers: Layer[]; packages: string[]; builtins: boolean }> = {
  engine: { layers: ['engine'], packages: ['undici', 'pako', 'hash-wasm'], builtins: true },
  host: { layers: ['engine', 'host', 'shared'], packages: ['zod'], builtins: true },
  transport: { layers: ['engine', 'host', 'shared', 'desktop', 'transport'], packages: ['ws'], builtins: true },
  desktop: { layers: ['host', 'shared', 'desktop'], packages: [], builtins: true },
  entry: { layers: ['engine', 'host', 'transport', 'desktop', 'shared', 'entry'], packages: [], builtins: true },
  adapter: { layers: ['engine', 'host', 'transport', 'desktop', 'shared', 'entry'], packages: ['electron'], builtins: true },
  shared: { layers: ['shared'], packages: ['zod'], builtins: false },
  renderer: { layers: ['renderer', 'shared'], packages: ['react', 'react-dom', 'zustand'], builtins: false },
  // Servers and measurements that the benchmarks and the tests share: neither imports the other.
  harness: { layers: ['harness', 'engine', 'host', 'shared'], packages: [], builtins: true },
  bench: { layers: ['bench', 'harness', 'engine', 'host', 'transport', 'shared', 'entry'], packages: ['undici', 'tar-stream'], builtins: true },
  tests: { layers: ['tests', 'harness', 'engine', 'host', 'transport', 'desktop', 'shared', 'entry', 'adapter', 'renderer'], packages: ['*'], builtins: true },
};

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sources(full));
    else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** A type-only import of `electron` (types for the window options) loads nothing at run time. */
function typeOnly(text: string, specifier: string): boolean {
  const statements = text.match(new RegExp(`^\\s*(import|export)[^;]*?from\\s*['"]${specifier}['"]`, 'gm')) ?? [];
  return statements.length > 0 && statements.every((s) => /^\s*(import|export)\s+type\s/.test(s));
}

export function layerViolations(file: string, text: string): string[] {
  const from = layerOf(file);
  if (from === 'outside') return [];
  const rule = ALLOWED[from];
  const problems: string[] = [];
  for (const { fileName: spec } of ts.preProcessFile(text, true, true).importedFiles) {
    if (spec.startsWith('.')) {
      const to = layerOf(resolve(dirname(file), spec));
      if (!rule.layers.includes(to)) problems.push(`${relative(repoRoot, file)} (${from}) imports ${spec} (${to})`);
      continue;
    }
    if (spec.startsWith('node:')) {
      if (!rule.builtins) problems.push(`${relative(repoRoot, file)} (${from}) imports the Node builtin ${spec}`);
      continue;
    }
    const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
    if (rule.packages.includes(pkg) || rule.packages.includes('*')) continue;
    if (pkg === 'electron' && from === 'desktop' && typeOnly(text, spec)) continue;
    problems.push(`${relative(repoRoot, file)} (${from}) imports the package ${spec}`);
  }
  return problems;
}

test('the layer check catches an import up a layer, a package the layer may not use, and allows type-only electron in desktop', () => {
  const engineFile = join(repoRoot, 'electron', 'engine', 'job', 'x.ts');
  assert.equal(layerViolations(engineFile, "import { JobModel } from '../../host/job-model';").length, 1);
  assert.equal(layerViolations(engineFile, "import { z } from 'zod';").length, 1);
  assert.equal(layerViolations(engineFile, "import { request } from 'undici';\nimport { join } from 'node:path';").length, 0);
  const hostFile = join(repoRoot, 'electron', 'host', 'x.ts');
  assert.equal(layerViolations(hostFile, "import { attach } from '../transport/ws-transport';").length, 1);
  const desktopFile = join(repoRoot, 'electron', 'desktop', 'x.ts');
  assert.equal(layerViolations(desktopFile, "import type { WebPreferences } from 'electron';").length, 0);
  assert.equal(layerViolations(desktopFile, "import { app } from 'electron';").length, 1);
  assert.equal(layerViolations(join(repoRoot, 'bench', 'x.ts'), "import { startNginx } from '../test/helpers/nginx';").length, 1);
  assert.equal(layerViolations(join(repoRoot, 'test', 'ipc', 'x.ts'), "import { measure } from '../../bench/event-loop';").length, 1);
  const rendererFile = join(repoRoot, 'renderer', 'x.tsx');
  assert.equal(layerViolations(rendererFile, "import { Job } from '../electron/engine/job/job';").length, 1);
});

test('every import in electron/, shared/, renderer/, harness/, bench/ and test/ stays within its layer', () => {
  const problems: string[] = [];
  for (const dir of ['electron', 'shared', 'renderer', 'harness', 'bench', 'test']) {
    for (const file of sources(join(repoRoot, dir))) problems.push(...layerViolations(file, readFileSync(file, 'utf8')));
  }
  assert.deepEqual(problems, []);
});

test('the engine has no file at its root but its shared vocabulary (errors, events, units, sleep) and its index', () => {
  const root = join(repoRoot, 'electron', 'engine');
  const files = readdirSync(root).filter((n) => statSync(join(root, n)).isFile());
  assert.deepEqual(files.sort(), ['README.md', 'errors.ts', 'events.ts', 'sleep.ts', 'units.ts']);
});
