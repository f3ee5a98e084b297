// The engine must stay plain Node: the CLI and the headless server load it without Electron, and the
// app loads it in a utility process. This test fails when any engine file imports `electron`, either
// statically (a scan of the sources) or at load time (the compiled modules in a Node without Electron).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import ts from 'typescript';

const repoRoot = resolve(__dirname, '..', '..', '..');
const engineSources = join(repoRoot, 'electron', 'engine');
const engineCompiled = join(repoRoot, 'dist', 'electron', 'engine');

/** `electron` itself or any of its subpath entry points (`electron/main`, `electron/renderer`, ...). */
function isElectronSpecifier(specifier: string): boolean {
  return specifier === 'electron' || specifier.startsWith('electron/');
}

/**
 * Every module specifier the source pulls in: `import`, `export ... from`, `import x = require()`,
 * `require()` and `import()`. The TypeScript pre-processor skips comments and string contents, so a
 * word in a comment is not a false alarm.
 */
export function electronImports(sourceText: string): string[] {
  const info = ts.preProcessFile(sourceText, true, true);
  return info.importedFiles.map((f) => f.fileName).filter(isElectronSpecifier);
}

function listFiles(dir: string, accept: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listFiles(full, accept));
    else if (accept(name)) out.push(full);
  }
  return out;
}

test('the scanner catches every form of importing electron', () => {
  const planted = [
    "import { app } from 'electron';",
    'import * as e from "electron";',
    "import 'electron';",
    "export { ipcMain } from 'electron';",
    "import electron = require('electron');",
    "const { shell } = require('electron');",
    "const main = require('electron/main');",
    "async function f() { return import('electron'); }",
  ];
  for (const line of planted) {
    assert.equal(electronImports(line).length, 1, `not caught: ${line}`);
  }
});

test('the scanner does not flag look-alikes, comments or strings', () => {
  const innocent = [
    "import { x } from './electron';",
    "import builder from 'electron-builder';",
    "// require('electron') is forbidden here",
    'const message = "never import(\'electron\') in the engine";',
    "/* import { app } from 'electron'; */",
  ];
  for (const line of innocent) {
    assert.deepEqual(electronImports(line), [], `false alarm: ${line}`);
  }
});

test('no engine source imports electron', () => {
  assert.ok(existsSync(engineSources), `missing ${engineSources}`);
  const sources = listFiles(engineSources, (n) => /\.(c|m)?(t|j)sx?$/.test(n) && !n.endsWith('.d.ts'));
  assert.ok(sources.length > 0, 'no engine sources found');
  const offenders: string[] = [];
  for (const file of sources) {
    for (const specifier of electronImports(readFileSync(file, 'utf8'))) {
      offenders.push(`${relative(repoRoot, file)} imports '${specifier}'`);
    }
  }
  assert.deepEqual(offenders, [], `the engine must never import electron:\n${offenders.join('\n')}`);
});

// Loaded in a child so the hook that makes `electron` unresolvable cannot leak into other tests. Every
// attempt to resolve electron is recorded, even one a module catches. A module that refuses to load for
// another reason (a worker entry point outside a worker thread) is reported apart: the static scan covers it.
const loaderScript = `
const Module = require('node:module');
const resolveFilename = Module._resolveFilename;
const attempts = [];
let loading = '';
Module._resolveFilename = function (request, ...rest) {
  if (request === 'electron' || request.startsWith('electron/')) {
    attempts.push(loading + ' -> ' + request);
    const err = new Error('electron is not available to the engine (required: ' + request + ')');
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }
  return resolveFilename.call(this, request, ...rest);
};
const refused = [];
for (const file of JSON.parse(process.argv[1])) {
  loading = file;
  try { require(file); } catch (err) { refused.push(file + ': ' + (err && err.message)); }
}
process.stdout.write(JSON.stringify({ attempts, refused }));
`;

interface LoadReport {
  /** Modules (with the specifier) that tried to resolve electron. */
  attempts: string[];
  /** Modules that threw while loading, for any reason. */
  refused: string[];
}

function loadInPlainNode(modules: string[]): LoadReport {
  const result = spawnSync(process.execPath, ['-e', loaderScript, JSON.stringify(modules)], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '', NODE_OPTIONS: '' },
  });
  assert.equal(result.status, 0, `loader exited ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout) as LoadReport;
}

test('the compiled engine loads in a plain Node process without electron', (t) => {
  assert.ok(existsSync(engineCompiled), `missing ${engineCompiled}: build first`);
  const modules = listFiles(engineCompiled, (n) => n.endsWith('.js'));
  assert.ok(modules.length > 0, 'no compiled engine modules found');
  const report = loadInPlainNode(modules);
  assert.deepEqual(report.attempts, [], `engine modules tried to load electron:\n${report.attempts.join('\n')}`);
  const electronFailures = report.refused.filter((r) => r.includes('electron is not available'));
  assert.deepEqual(electronFailures, []);
  for (const r of report.refused) t.diagnostic(`not loadable on the main thread (not about electron): ${r}`);
  assert.ok(report.refused.length < modules.length / 2, `most engine modules failed to load:\n${report.refused.join('\n')}`);
});

test('the load check itself notices a module that requires electron, even when the module catches it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engine-imports-'));
  try {
    const loud = join(dir, 'loud.js');
    const quiet = join(dir, 'quiet.js');
    writeFileSync(loud, "require('electron');\n");
    writeFileSync(quiet, "try { require('electron/main'); } catch { /* optional */ }\n");
    const report = loadInPlainNode([loud, quiet]);
    assert.equal(report.attempts.length, 2, JSON.stringify(report));
    assert.match(report.attempts[1]!, /quiet\.js -> electron\/main$/);
    assert.equal(report.refused.length, 1);
    assert.match(report.refused[0]!, /electron is not available/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
