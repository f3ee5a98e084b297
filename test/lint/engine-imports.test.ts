// The engine must stay plain Node: the CLI and the headless server load it without Electron, and the
// app loads it in a utility process. This test fails when any engine file imports `electron`, either
// statically (a scan of the sources) or at load time (the compiled modules in a Node without Electron).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
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
    "const message = \"never import('electron') in the engine\";",
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

// Loaded in a child so the hook that makes `electron` unresolvable cannot leak into other tests.
const loaderScript = `
const Module = require('node:module');
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'electron' || request.startsWith('electron/')) {
    const err = new Error('electron is not available to the engine (required: ' + request + ')');
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }
  return resolveFilename.call(this, request, ...rest);
};
const failures = [];
for (const file of JSON.parse(process.argv[1])) {
  try { require(file); } catch (err) { failures.push(file + ': ' + (err && err.message)); }
}
process.stdout.write(JSON.stringify(failures));
`;

test('the compiled engine loads in a plain Node process without electron', () => {
  assert.ok(existsSync(engineCompiled), `missing ${engineCompiled}: build first`);
  const modules = listFiles(engineCompiled, (n) => n.endsWith('.js'));
  assert.ok(modules.length > 0, 'no compiled engine modules found');
  const result = spawnSync(process.execPath, ['-e', loaderScript, JSON.stringify(modules)], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '', NODE_OPTIONS: '' },
  });
  assert.equal(result.status, 0, `loader exited ${result.status}: ${result.stderr}`);
  const failures = JSON.parse(result.stdout) as string[];
  assert.deepEqual(failures, [], `engine modules failed to load without electron:\n${failures.join('\n')}`);
});

test('the load check itself notices a module that requires electron', () => {
  const script = loaderScript.replace(
    "for (const file of JSON.parse(process.argv[1]))",
    "for (const file of ['electron'])",
  );
  const result = spawnSync(process.execPath, ['-e', script, '[]'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 0, result.stderr);
  const failures = JSON.parse(result.stdout) as string[];
  assert.equal(failures.length, 1);
  assert.match(failures[0]!, /electron is not available/);
});
