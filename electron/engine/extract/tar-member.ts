// Turns one member's header, with the records before it (pax local and global, GNU long name and long
// link) into the member the writer sees, deciding as GNU tar decides: which name wins (GNU.sparse.name, pax
// path, long name, header), which types carry data (files, sparse files, unknown types; never directories,
// links or devices, whatever their size field says), and what a sparse member's real size and map are.
import { ArchiveError } from '../errors';
import type { EntryHeader, EntryType, EntryWarningCode } from './extract-types';
import { decodeNameBytes } from './byte-names';
import { lastValue, paxInteger, paxTime } from './pax';
import { sparseFromPax } from './sparse-map';
import type { RawHeader } from './tar-header';

export interface MemberNote {
  code: EntryWarningCode;
  reason: string;
  /** The member is not extracted (its data is skipped). */
  skipped: boolean;
}

export interface AssembledMember {
  entry: EntryHeader;
  /** Bytes of data that follow the header in the archive. */
  dataSize: number;
  notes: MemberNote[];
  /** A volume label or similar: framed, never extracted, never reported. */
  silent: boolean;
}

export interface MemberContext {
  local: Array<[string, Buffer]>;
  global: Array<[string, Buffer]>;
  longName: Buffer | null;
  longLink: Buffer | null;
  /** Regions from old GNU sparse extension blocks, after those of the header. */
  extRegions: Array<[number, number]>;
  notes: MemberNote[];
  offset: number;
}

const c = (ch: string) => ch.charCodeAt(0);
const RAW_TYPES: Record<number, string> = {
  [c('1')]: 'link',
  [c('2')]: 'symlink',
  [c('3')]: 'character-device',
  [c('4')]: 'block-device',
  [c('6')]: 'fifo',
  [c('M')]: 'multi-volume continuation',
  [c('N')]: 'old GNU long-name list',
};
const NO_DATA = new Set([c('1'), c('2'), c('3'), c('4'), c('5'), c('6')]);
const KNOWN = new Set([0, c('0'), c('1'), c('2'), c('3'), c('4'), c('5'), c('6'), c('7'), c('D'), c('M'), c('N'), c('S'), c('V')]);

export function assembleMember(h: RawHeader, ctx: MemberContext): AssembledMember {
  const notes = [...ctx.notes];
  // Global records first, local ones over them (GNU tar applies both to every member).
  const pax = [...ctx.global, ...ctx.local];
  const value = (k: string) => lastValue(pax, k);
  let name = h.name;
  if (ctx.longName) name = decodeNameBytes(cstring(ctx.longName));
  const paxPath = value('path');
  if (paxPath !== undefined) name = decodeNameBytes(paxPath);
  const sparseName = lastValue(ctx.local, 'GNU.sparse.name');
  if (sparseName !== undefined) name = decodeNameBytes(sparseName);
  let linkname = h.linkname;
  if (ctx.longLink) linkname = decodeNameBytes(cstring(ctx.longLink));
  const paxLink = value('linkpath');
  if (paxLink !== undefined) linkname = decodeNameBytes(paxLink);

  let size = h.size;
  if (size === null) {
    if (!h.sizeBlank) throw new ArchiveError('E_ARCHIVE_CORRUPT', `Invalid size field in the tar header at byte ${ctx.offset}.`, { details: { offset: ctx.offset } });
    notes.push({ code: 'BAD_HEADER', reason: 'the size field is blank; the member is skipped, as GNU tar skips it', skipped: true });
    size = 0;
  }
  const paxSize = value('size');
  if (paxSize !== undefined) {
    const n = paxInteger(paxSize);
    if (n === null) throw new ArchiveError('E_ARCHIVE_CORRUPT', `Invalid pax size for "${name}" at byte ${ctx.offset}.`, { details: { offset: ctx.offset, entry: name } });
    size = n;
  }
  const t = h.typeflag;
  const regular = t === 0 || t === c('0') || t === c('7');
  const directory = t === c('5') || t === c('D') || (regular && name.endsWith('/'));
  let type: EntryType = 'other';
  let rawType = RAW_TYPES[t] ?? `type ${JSON.stringify(String.fromCharCode(t))}`;
  if (directory) type = 'directory';
  else if (regular || t === c('S')) type = 'file';
  else if (t === c('1')) type = 'hardlink';
  else if (t === c('2')) type = 'symlink';
  else if (!KNOWN.has(t)) {
    type = 'file';
    notes.push({ code: 'UNKNOWN_TYPE', reason: `unknown type ${JSON.stringify(String.fromCharCode(t))}, extracted as a regular file (as GNU tar does)`, skipped: false });
  }
  if (type === 'file') rawType = 'file';
  if (type === 'directory') rawType = 'directory';
  // A GNU dumpdir ('D') carries its listing as data, skipped; other directories carry none.
  const hasData = t === c('D') || (!directory && !NO_DATA.has(t));
  if (!hasData && size > 0 && type === 'directory') {
    notes.push({ code: 'IGNORED_SIZE', reason: `the directory declares ${size} data bytes; like GNU tar, none are read`, skipped: false });
  }
  const dataSize = hasData ? size : 0;

  const paxMtime = paxTime(value('mtime'));
  const entry: EntryHeader = {
    name,
    type,
    rawType,
    size: dataSize,
    mode: h.mode ?? (type === 'directory' ? 0o755 : 0o644),
    mtime: paxMtime ?? h.mtime ?? 0,
    linkname: type === 'hardlink' || type === 'symlink' ? linkname : null,
    offset: ctx.offset,
  };
  if (type === 'file') {
    const where = `"${name}"`;
    const sparse = sparseFromPax(ctx.local, dataSize, where);
    if (sparse) {
      entry.sparse = sparse;
      entry.size = sparse.realSize;
    } else if (h.oldSparse) {
      if (h.oldSparse.realSize < 0) throw new ArchiveError('E_ARCHIVE_CORRUPT', `The old GNU sparse header of ${where} has no valid real size.`);
      entry.sparse = {
        realSize: h.oldSparse.realSize,
        regions: [...h.oldSparse.regions, ...ctx.extRegions],
        mapInData: false,
        mapBytes: 0,
        archiveBytes: dataSize,
      };
      entry.size = h.oldSparse.realSize;
    }
  }
  return { entry, dataSize, notes, silent: t === c('V') };
}

function cstring(b: Buffer): Buffer {
  const z = b.indexOf(0);
  return z < 0 ? b : b.subarray(0, z);
}
