// The window's security settings, the CSP, the navigation and external-link rules, asserted as data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_ENTRY_URL, CONTENT_SECURITY_POLICY, isAllowedExternalUrl, isAppUrl, servePolicy, webPreferences, windowOptions } from '../../electron/desktop/window-options';
import { resolveRendererFile } from '../../electron/transport/static-files';

function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...values]) => [name!, values]),
  );
}

test('web preferences: no node, isolated, sandboxed, with our preload', () => {
  const prefs = webPreferences('/app/preload.js');
  assert.equal(prefs.nodeIntegration, false);
  assert.equal(prefs.nodeIntegrationInWorker, false);
  assert.equal(prefs.nodeIntegrationInSubFrames, false);
  assert.equal(prefs.contextIsolation, true);
  assert.equal(prefs.sandbox, true);
  assert.equal(prefs.webSecurity, true);
  assert.equal(prefs.allowRunningInsecureContent, false);
  assert.equal(prefs.webviewTag, false);
  assert.equal(prefs.preload, '/app/preload.js');
  assert.deepEqual(windowOptions('/p.js').webPreferences, webPreferences('/p.js'));
  assert.equal(windowOptions('/p.js').show, false);
});

test('the CSP is strict: self only, no objects, no inline script, no eval', () => {
  const d = directives(CONTENT_SECURITY_POLICY);
  assert.deepEqual(d.get('default-src'), ["'self'"]);
  assert.deepEqual(d.get('object-src'), ["'none'"]);
  assert.deepEqual(d.get('script-src'), ["'self'"]);
  assert.deepEqual(d.get('base-uri'), ["'none'"]);
  assert.deepEqual(d.get('frame-ancestors'), ["'none'"]);
  assert.ok(!CONTENT_SECURITY_POLICY.includes('unsafe-'), 'no unsafe-inline or unsafe-eval');
  const served = directives(servePolicy('ws://127.0.0.1:4000'));
  assert.deepEqual(served.get('connect-src'), ["'self'", 'ws://127.0.0.1:4000']);
  assert.deepEqual(served.get('script-src'), ["'self'"]);
});

test('only the app page is a navigation target; only allowed https links open outside', () => {
  assert.ok(isAppUrl(APP_ENTRY_URL));
  assert.ok(isAppUrl('app://renderer/index.html#/jobs'));
  for (const url of ['https://evil.example/', 'file:///etc/passwd', 'app://other/index.html', 'javascript:alert(1)', 'not a url']) assert.ok(!isAppUrl(url), url);
  assert.ok(isAllowedExternalUrl('https://github.com/some/project'));
  for (const url of ['http://github.com/x', 'https://github.com.evil.example/', 'https://user:pw@github.com/', 'file:///x', 'https://evil.example/']) {
    assert.ok(!isAllowedExternalUrl(url), url);
  }
});

test('the renderer files are confined to index.html and assets/', () => {
  const root = '/srv/app/dist/renderer';
  assert.equal(resolveRendererFile(root, '/'), join(root, 'index.html'));
  assert.equal(resolveRendererFile(root, '/assets/index-abc.js'), join(root, 'assets/index-abc.js'));
  for (const p of ['/../package.json', '/assets/../../x', '/assets/%2e%2e/%2e%2e/x', '/src/store/model.js', '/assets/a\\..\\b', '/%00', '/%E0%A4%A']) {
    assert.equal(resolveRendererFile(root, p), null, p);
  }
});

test('main.ts wires the lock-down it promises', () => {
  // The adapter cannot run here (no Electron binary); its calls are at least present and type-checked.
  const source = readFileSync(join(__dirname, '..', '..', '..', 'electron', 'main.ts'), 'utf8');
  for (const call of [
    'requestSingleInstanceLock',
    'setPermissionRequestHandler',
    'setPermissionCheckHandler',
    "'will-navigate'",
    'setWindowOpenHandler',
    "'will-attach-webview'",
    'registerSchemesAsPrivileged',
    "pauseAll('suspend')",
    "resumeAll('suspend')",
    "pauseAll('offline')",
    'powerSaveBlocker.start',
    'setProgressBar',
    'showOpenDialog',
    "getPath('userData')",
  ]) {
    assert.ok(source.includes(call), call);
  }
  assert.ok(!source.includes('@electron/remote'));
});
