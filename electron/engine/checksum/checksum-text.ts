// Checksums as operators receive them: bare hex, a line of `sha256sum`/`md5sum` output ("<hex>  <name>",
// "<hex> *<name>"), or BSD style ("SHA256 (name) = <hex>"). Pasting the line a provider publishes must work;
// anything else is refused with the reason, before any byte is fetched.
import { UsageError } from '../errors';

export type DigestKind = 'sha256' | 'md5';

export const DIGEST_KINDS: readonly DigestKind[] = ['sha256', 'md5'];

/** Hex digits per digest. */
export const HEX_LENGTH: Record<DigestKind, number> = { sha256: 64, md5: 32 };

export const DIGEST_LABEL: Record<DigestKind, string> = { sha256: 'SHA-256', md5: 'MD5' };

/** What other lengths are (to say "that is a SHA-1" rather than "wrong length"). */
const OTHER_LENGTHS: Record<number, string> = { 40: 'a SHA-1', 56: 'a SHA-224', 96: 'a SHA-384', 128: 'a SHA-512' };

export interface ChecksumLine {
  hex: string;
  /** The file the line names, when it names one. */
  name: string | null;
  /** The algorithm a BSD-style line names ("SHA256 (x) = ..."), else null. */
  tagged: DigestKind | null;
}

const BSD = /^(SHA-?256|MD5)\s*\((.*)\)\s*=\s*([0-9a-fA-F]+)$/i;
// GNU coreutils: hex, one space, then ' ' (text) or '*' (binary), then the name; a leading '\' marks an
// escaped name. Some tools write a single space, which is accepted too.
const GNU = /^\\?([0-9a-fA-F]+) (?:[ *])?(.+)$/;

/** Parses one checksum line of any accepted shape, or returns null when it is none of them. */
export function parseChecksumLine(text: string): ChecksumLine | null {
  const line = text.replace(/\r$/, '').trim();
  if (/^[0-9a-fA-F]+$/.test(line)) return { hex: line.toLowerCase(), name: null, tagged: null };
  const bsd = BSD.exec(line);
  if (bsd) return { hex: bsd[3]!.toLowerCase(), name: bsd[2]!, tagged: /md5/i.test(bsd[1]!) ? 'md5' : 'sha256' };
  const gnu = GNU.exec(line);
  if (gnu) return { hex: gnu[1]!.toLowerCase(), name: unescapeGnuName(line.startsWith('\\'), gnu[2]!), tagged: null };
  return null;
}

/** `sha256sum` escapes a name holding '\' or a newline and marks the line with a leading '\'. */
function unescapeGnuName(escaped: boolean, name: string): string {
  if (!escaped) return name;
  return name.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** Why `hex` is not a digest of `kind`, or null when it is one. */
export function hexProblem(hex: string, kind: DigestKind): string | null {
  if (!/^[0-9a-f]+$/.test(hex)) return 'it holds characters that are not hexadecimal';
  if (hex.length === HEX_LENGTH[kind]) return null;
  const other = DIGEST_KINDS.find((k) => k !== kind && HEX_LENGTH[k] === hex.length);
  if (other) return `it has ${hex.length} hexadecimal digits, which is ${other === 'md5' ? 'an MD5' : 'a SHA-256'}; give it with --${other}`;
  const known = OTHER_LENGTHS[hex.length];
  if (known) return `it has ${hex.length} hexadecimal digits, which is ${known}; only SHA-256 and MD5 are supported`;
  return `it has ${hex.length} hexadecimal digits, and a ${DIGEST_LABEL[kind]} is ${HEX_LENGTH[kind]} hexadecimal characters`;
}

/**
 * The value of `--sha256` / `--md5` (or a manifest's column) as lowercase hex. `what` names where it came from
 * in the message (e.g. "--md5", "line 3's md5").
 */
export function parseChecksumArg(text: string, kind: DigestKind, what: string = `--${kind}`): string {
  const shown = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  const trimmed = text.trim();
  if (trimmed === '') throw new UsageError(`${what} is empty; give the ${DIGEST_LABEL[kind]} as ${HEX_LENGTH[kind]} hexadecimal characters.`);
  if (/[\r\n]/.test(trimmed.replace(/\r?\n$/, ''))) {
    throw new UsageError(`${what} holds several lines; give one: the hex digest, or the one line of ${kind}sum output that names the file.`);
  }
  const line = parseChecksumLine(trimmed);
  if (!line) {
    throw new UsageError(
      `${what} "${shown}" is not a checksum: give ${HEX_LENGTH[kind]} hexadecimal characters, a line of ${kind}sum output ("<hex>  <file>"), or a BSD line ("${kind === 'md5' ? 'MD5' : 'SHA256'} (<file>) = <hex>").`,
    );
  }
  if (line.tagged && line.tagged !== kind) {
    throw new UsageError(`${what} was given a ${DIGEST_LABEL[line.tagged]} line ("${shown}"); give it with --${line.tagged}.`);
  }
  const problem = hexProblem(line.hex, kind);
  if (problem) throw new UsageError(`${what} "${shown}" is not a ${DIGEST_LABEL[kind]}: ${problem}.`);
  return line.hex;
}
