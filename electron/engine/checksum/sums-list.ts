// The checksum files providers publish beside a snapshot: `<file>.sha256` / `.md5` (a bare digest, or one
// sha256sum line) and `SHA256SUMS` / `MD5SUMS` lists naming several files. Lines are read as sha256sum
// --check reads them; what is not a checksum line is skipped.
import { HEX_LENGTH, hexProblem, parseChecksumLine, type DigestKind } from './checksum-text';

export interface SumsEntry {
  hex: string;
  name: string | null;
}

/** The lines of a checksum file that hold a digest of `kind`. */
export function sumsEntries(text: string, kind: DigestKind): SumsEntry[] {
  const out: SumsEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const parsed = parseChecksumLine(line);
    if (!parsed || (parsed.tagged !== null && parsed.tagged !== kind)) continue;
    if (parsed.hex.length !== HEX_LENGTH[kind] || hexProblem(parsed.hex, kind)) continue;
    out.push({ hex: parsed.hex, name: parsed.name });
  }
  return out;
}

/** A listed name's last path segment ("./a/b.tar" and "b.tar" name the same file beside the list). */
function baseName(name: string): string {
  return name.replace(/\\/g, '/').split('/').pop() ?? name;
}

/**
 * The digest of `fileName` in a checksum file: a list entry naming it (by its last path segment), or, for a
 * file that holds a single entry (a per-file sidecar), that entry whatever name it gives (a `latest` link's
 * sidecar names the file it points to). Null when the file does not say, or says two different things.
 */
export function digestFor(text: string, kind: DigestKind, fileName: string, perFile: boolean): string | null {
  const entries = sumsEntries(text, kind);
  const named = entries.filter((e) => e.name !== null && baseName(e.name) === fileName);
  const pick = named.length > 0 ? named : perFile && entries.length === 1 ? entries : [];
  const values = new Set(pick.map((e) => e.hex));
  return values.size === 1 ? [...values][0]! : null;
}
