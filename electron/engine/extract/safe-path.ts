// Pure checks on the names found in an archive: where an entry may go, and where a link may point.
// Nothing here touches the disk; the safe writer adds the checks that need it (lstat of each component).
import * as path from 'node:path';
import { hasRawBytes, nameByteLength } from './byte-names';
import type { EntryWarningCode } from './extract-types';
import type { ExtractLimits } from './tar-limits';

export type Rejection = { ok: false; code: EntryWarningCode; reason: string };

export interface SafeRelativePath {
  ok: true;
  /** Components below the destination, never empty, never `.` or `..`. Empty array: the destination itself. */
  parts: string[];
  /** The root that was removed (`/`, `C:\`, `//?/C:/`), or null when the name was already relative. */
  strippedRoot: string | null;
}

type NameLimits = Pick<ExtractLimits, 'maxDepth' | 'maxPathBytes' | 'maxComponentBytes'>;

// A root is anything that would make a name absolute on some platform: POSIX `/`, Windows drive letters
// with or without a separator (`C:x` is drive-relative), UNC and `\\?\` device prefixes.
const ROOT_PREFIX = /^(?:[/\\]{2}[?.][/\\]|[/\\]+|[a-zA-Z]:)/;

/** Splits off every root prefix, repeatedly (`//?/C:/x` → `x`). */
export function stripRoot(name: string): { rest: string; root: string } {
  let rest = name;
  let root = '';
  for (;;) {
    const m = ROOT_PREFIX.exec(rest);
    if (!m) return { rest, root };
    root += m[0];
    rest = rest.slice(m[0].length);
  }
}

const WINDOWS_RESERVED = /^(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(?:\..*)?$/i;
// Characters Windows refuses or gives a meaning (`:` opens an alternate data stream).
const WINDOWS_BAD_CHARS = /[<>:"|?*\u0000-\u001f]/;
// 8.3 short names alias long ones (`PROGRA~1`): two archive names could reach the same file.
const WINDOWS_SHORT_NAME = /~\d/;

function windowsComponentProblem(c: string): string | null {
  if (WINDOWS_BAD_CHARS.test(c)) return 'contains a character Windows does not allow in names';
  if (/[. ]$/.test(c)) return 'ends with a dot or a space, which Windows drops';
  if (WINDOWS_RESERVED.test(c)) return 'is a reserved device name on Windows';
  if (WINDOWS_SHORT_NAME.test(c)) return 'looks like a Windows 8.3 short name, which can alias another entry';
  return null;
}

/**
 * Turns an archive member name into components below the destination, or says why it must be skipped.
 * `..` anywhere is refused (also split on `\`, so `..\x` cannot reach a Windows parent); roots are stripped
 * and reported.
 */
export function sanitizeEntryPath(name: string, limits: NameLimits, platform: NodeJS.Platform = process.platform): SafeRelativePath | Rejection {
  if (name.includes('\0')) return { ok: false, code: 'BAD_NAME', reason: 'the name contains a NUL byte' };
  // Linux keeps any bytes; macOS and Windows take Unicode names only, and a guessed conversion could merge two.
  if ((platform === 'win32' || platform === 'darwin') && hasRawBytes(name)) {
    return { ok: false, code: 'NAME_ENCODING', reason: 'the name is not UTF-8, and this file system takes Unicode names only' };
  }
  const { rest, root } = stripRoot(name);
  const pieces = rest.split(/[/\\]/);
  if (pieces.includes('..')) {
    return { ok: false, code: 'PATH_TRAVERSAL', reason: 'the name contains a `..` component' };
  }
  const separator = platform === 'win32' ? /[/\\]/ : /\//;
  const parts = rest.split(separator).filter((c) => c !== '' && c !== '.');
  if (parts.length > limits.maxDepth) {
    return { ok: false, code: 'DEPTH_LIMIT', reason: `the path is ${parts.length} levels deep (limit ${limits.maxDepth})` };
  }
  const bytes = nameByteLength(parts.join('/'));
  if (bytes > limits.maxPathBytes) {
    return { ok: false, code: 'NAME_TOO_LONG', reason: `the path is ${bytes} bytes long (limit ${limits.maxPathBytes})` };
  }
  for (const c of parts) {
    const n = nameByteLength(c);
    if (n > limits.maxComponentBytes) {
      return { ok: false, code: 'NAME_TOO_LONG', reason: `a path component is ${n} bytes long (limit ${limits.maxComponentBytes})` };
    }
    if (platform === 'win32') {
      const problem = windowsComponentProblem(c);
      if (problem) return { ok: false, code: 'BAD_NAME', reason: `component "${c}" ${problem}` };
    }
  }
  return { ok: true, parts, strippedRoot: root === '' ? null : root };
}

/**
 * The absolute path of `parts` below `root`, or null when it would not be strictly inside. Containment is
 * decided on the resolved relative path, never by comparing string prefixes (`/dest-evil` vs `/dest`).
 */
export function containedPath(root: string, parts: readonly string[]): string | null {
  const abs = path.resolve(root, ...parts);
  const rel = path.relative(root, abs);
  if (rel === '' || path.isAbsolute(rel) || rel === '..' || rel.startsWith('..' + path.sep)) return null;
  return abs;
}

/**
 * Whether a symlink at `linkParts` (below the destination) may point at `target`. The target is resolved
 * from the link's directory. Accepted shapes: `../`-steps that stay inside, then plain names only. A `..`
 * after a plain name (`cur/..`) is refused: if `cur` is (or later becomes) a link, the walk would leave
 * the tree, and no lexical check can rule that out.
 */
export function checkSymlinkTarget(linkParts: readonly string[], target: string, maxPathBytes: number): Rejection | null {
  if (target === '') return { ok: false, code: 'LINK_ESCAPE', reason: 'the link target is empty' };
  if (target.includes('\0')) return { ok: false, code: 'BAD_NAME', reason: 'the link target contains a NUL byte' };
  if (nameByteLength(target) > maxPathBytes) {
    return { ok: false, code: 'NAME_TOO_LONG', reason: `the link target is longer than ${maxPathBytes} bytes` };
  }
  if (stripRoot(target).root !== '') {
    return { ok: false, code: 'LINK_ESCAPE', reason: `the link points at an absolute path (${target})` };
  }
  const pieces = target.split(/[/\\]/).filter((c) => c !== '' && c !== '.');
  let up = 0;
  let descended = false;
  for (const p of pieces) {
    if (p === '..') {
      if (descended) {
        return { ok: false, code: 'LINK_ESCAPE', reason: `the link target ${target} climbs back up after descending; it cannot be kept inside` };
      }
      up++;
    } else {
      descended = true;
    }
  }
  const linkDirDepth = linkParts.length - 1;
  if (up > linkDirDepth) {
    return { ok: false, code: 'LINK_ESCAPE', reason: `the link target ${target} leaves the destination` };
  }
  return null;
}

const ASCII = /^[\x00-\x7f]*$/;

/**
 * The key under which two names count as the same file on a case-insensitive or normalising file system
 * (macOS, Windows): canonical composition, then case folding (`ß` → `ss` via upper case).
 */
export function foldKey(parts: readonly string[]): string {
  const joined = parts.join('/');
  // Nearly every name is ASCII: NFC leaves it as it is and upper-then-lower case is its lower case (this
  // runs for every component of every member: the four passes showed in the small-file profile).
  if (ASCII.test(joined)) return joined.toLowerCase();
  return joined.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}

/**
 * foldKey of every prefix of `parts` (1 component, 2, ... all), as the collision ledger needs them. For an
 * ASCII name the path is folded once and cut, instead of joining and folding each prefix again.
 */
export function foldedPrefixes(parts: readonly string[]): string[] {
  const joined = parts.join('/');
  if (!ASCII.test(joined)) return parts.map((_, i) => foldKey(parts.slice(0, i + 1)));
  const lower = joined.toLowerCase();
  const out: string[] = [];
  let end = -1;
  for (const part of parts) {
    end += part.length + 1;
    out.push(lower.slice(0, end));
  }
  return out;
}
