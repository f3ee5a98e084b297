// The pure name checks under the safe writer: roots, `..`, caps, Windows-only hazards, link targets, folding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSymlinkTarget, containedPath, foldKey, foldedPrefixes, sanitizeEntryPath, stripRoot } from '../../electron/engine/extract/safe-path';
import { DEFAULT_LIMITS, resolveLimits } from '../../electron/engine/extract/tar-limits';

const ok = (name: string, platform: NodeJS.Platform = 'linux') => {
  const v = sanitizeEntryPath(name, DEFAULT_LIMITS, platform);
  assert.ok(v.ok, `${name} should be accepted`);
  return v;
};
const refused = (name: string, platform: NodeJS.Platform = 'linux') => {
  const v = sanitizeEntryPath(name, DEFAULT_LIMITS, platform);
  assert.ok(!v.ok, `${name} should be refused`);
  return v.code;
};

test('roots are stripped, all of them', () => {
  assert.deepEqual(stripRoot('////x'), { rest: 'x', root: '////' });
  assert.deepEqual(stripRoot('//?/C:/x'), { rest: 'x', root: '//?/C:/' });
  assert.deepEqual(stripRoot('\\\\?\\c:\\x'), { rest: 'x', root: '\\\\?\\c:\\' });
  assert.deepEqual(stripRoot('C:x'), { rest: 'x', root: 'C:' });
  assert.deepEqual(stripRoot('a/b'), { rest: 'a/b', root: '' });
  assert.deepEqual(ok('/etc/passwd'), { ok: true, parts: ['etc', 'passwd'], strippedRoot: '/' });
});

test('`.` and empty components vanish; `..` anywhere is refused, also behind backslashes', () => {
  assert.deepEqual(ok('./a//b/./c/').parts, ['a', 'b', 'c']);
  assert.deepEqual(ok('./').parts, []);
  for (const n of ['..', '../x', 'a/..', 'a/../b', '..\\x', 'a\\..\\..\\x', 'C:../x', '/..']) assert.equal(refused(n), 'PATH_TRAVERSAL', n);
  // On POSIX a backslash is an ordinary character of the name.
  assert.deepEqual(ok('a\\b').parts, ['a\\b']);
  assert.deepEqual(ok('a\\b', 'win32').parts, ['a', 'b']);
});

test('NUL, depth and length caps', () => {
  assert.equal(refused('a\0b'), 'BAD_NAME');
  const limits = resolveLimits({ maxDepth: 3, maxPathBytes: 20, maxComponentBytes: 8 });
  assert.equal((sanitizeEntryPath('a/b/c/d', limits) as { code: string }).code, 'DEPTH_LIMIT');
  assert.equal((sanitizeEntryPath('123456789', limits) as { code: string }).code, 'NAME_TOO_LONG');
  assert.equal((sanitizeEntryPath('1234567/1234567/1234567', limits) as { code: string }).code, 'NAME_TOO_LONG');
  assert.ok(sanitizeEntryPath('a/b/c', limits).ok);
  assert.throws(() => resolveLimits({ maxDepth: -1 }), RangeError);
});

test('Windows-only hazards: reserved names, ADS colons, trailing dots, 8.3 short names', () => {
  for (const n of ['CON', 'dir/aux.txt', 'file:stream', 'name.', 'name ', 'PROGRA~1/x']) assert.equal(refused(n, 'win32'), 'BAD_NAME', n);
  for (const n of ['CON', 'file:stream', 'name.']) ok(n, 'linux');
});

test('containment is decided on the resolved relative path, not a string prefix', () => {
  assert.equal(containedPath('/dest', ['a', 'b']), '/dest/a/b');
  assert.equal(containedPath('/dest', []), null);
  assert.equal(containedPath('/dest', ['..', 'dest-evil']), null);
  assert.equal(containedPath('/dest', ['a', '..', '..', 'x']), null);
});

test('symlink targets: relative and inside only, no climbing after descending', () => {
  const fine: Array<[string[], string]> = [
    [['link'], 'file'],
    [['link'], '.'],
    [['a', 'link'], '../b'],
    [['a', 'b', 'link'], '../../c/d'],
    [['a', 'link'], './x/./y'],
  ];
  for (const [at, target] of fine) assert.equal(checkSymlinkTarget(at, target, 4096), null, `${at.join('/')} -> ${target}`);
  const bad: Array<[string[], string]> = [
    [['link'], '/etc'],
    [['link'], 'C:\\Windows'],
    [['link'], '..'],
    [['a', 'link'], '../../x'],
    [['link'], 'cur/..'],
    [['link'], 'a/../../x'],
    [['link'], 'a\\..\\..\\x'],
    [['link'], ''],
  ];
  for (const [at, target] of bad) assert.equal(checkSymlinkTarget(at, target, 4096)?.code, 'LINK_ESCAPE', `${at.join('/')} -> ${target}`);
  assert.equal(checkSymlinkTarget(['l'], 'a\0b', 4096)?.code, 'BAD_NAME');
});

test('folding merges case, ß/ss and NFC/NFD spellings', () => {
  assert.equal(foldKey(['Dir', 'File']), foldKey(['dir', 'file']));
  assert.equal(foldKey(['stra\u00dfe']), foldKey(['STRASSE']));
  assert.equal(foldKey(['caf\u00e9']), foldKey(['cafe\u0301']));
  assert.notEqual(foldKey(['a']), foldKey(['b']));
});

test('foldedPrefixes gives foldKey of every prefix, for ASCII names (the fast path) and others', () => {
  const names = [
    ['usr', 'Share', 'DOC', 'README.md'],
    ['a'],
    ['Stra\u00dfe', 'Caf\u00e9', 'x'],
    ['cafe\u0301', 'STRASSE'],
    ['\u0130stanbul', 'ODYSSEY \u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3'],
    ['mixed', 'ascii', '\u00c5ngstr\u00f6m'],
  ];
  for (const parts of names) {
    assert.deepEqual(
      foldedPrefixes(parts),
      parts.map((_, i) => foldKey(parts.slice(0, i + 1))),
      parts.join('/'),
    );
  }
  assert.deepEqual(foldedPrefixes(['Usr', 'LIB']), ['usr', 'usr/lib']);
});
