// Builds tar archives byte by byte, so tests can say exactly what a hostile or broken archive contains
// (names with `..`, NUL bytes in pax records, wrong checksums, negative sizes), which packers refuse to write.

export interface RawEntry {
  name: string;
  /** Typeflag character: '0' file, '1' hardlink, '2' symlink, '3' char device, '5' directory, '6' fifo, 'x' pax, 'L' long name... */
  type?: string;
  data?: Buffer | string;
  /** Declared size; defaults to the data length. */
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  /** ustar prefix field (names up to 255 bytes without pax). */
  prefix?: string;
  /** Overrides the computed checksum (to build a corrupt header). */
  checksum?: number;
  /** Raw bytes for the size field (base-256 encodings, negative sizes). */
  rawSize?: Buffer;
  magic?: 'ustar' | 'gnu' | 'v7';
}

function writeString(block: Buffer, value: string, offset: number, length: number): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`field too long for "${value.slice(0, 40)}"`);
  bytes.copy(block, offset);
}

function writeOctal(block: Buffer, value: number, offset: number, length: number): void {
  const s = value.toString(8).padStart(length - 1, '0');
  if (s.length > length - 1) throw new Error(`octal overflow: ${value}`);
  block.write(s + '\0', offset, length, 'latin1');
}

export function tarHeader(e: RawEntry): Buffer {
  const block = Buffer.alloc(512);
  const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
  writeString(block, e.name, 0, 100);
  writeOctal(block, e.mode ?? (e.type === '5' ? 0o755 : 0o644), 100, 8);
  writeOctal(block, e.uid ?? 1000, 108, 8);
  writeOctal(block, e.gid ?? 1000, 116, 8);
  if (e.rawSize) e.rawSize.copy(block, 124, 0, 12);
  else writeOctal(block, e.size ?? data.length, 124, 12);
  writeOctal(block, e.mtime ?? 1_700_000_000, 136, 12);
  block.write(e.type ?? '0', 156, 1, 'latin1');
  if (e.linkname) writeString(block, e.linkname, 157, 100);
  const magic = e.magic ?? 'ustar';
  if (magic === 'ustar') block.write('ustar\u000000', 257, 8, 'latin1');
  else if (magic === 'gnu') block.write('ustar  \u0000', 257, 8, 'latin1');
  writeString(block, 'user', 265, 32);
  writeString(block, 'user', 297, 32);
  if (e.prefix) writeString(block, e.prefix, 345, 155);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of block) sum += b;
  block.write((e.checksum ?? sum).toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return block;
}

function padTo512(buf: Buffer): Buffer {
  const r = buf.length % 512;
  return r === 0 ? buf : Buffer.concat([buf, Buffer.alloc(512 - r)]);
}

/** One member: header plus padded data. */
export function tarMember(e: RawEntry): Buffer {
  const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
  return Buffer.concat([tarHeader(e), padTo512(data)]);
}

/** A pax record line: `<len> key=value\n` where len counts the whole line. */
export function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len++;
  return Buffer.from(`${len}${body}`, 'utf8');
}

/** A pax extended header member applying `records` to the member that follows. */
export function paxHeader(records: Record<string, string>, name = 'PaxHeaders/x'): Buffer {
  const data = Buffer.concat(Object.entries(records).map(([k, v]) => paxRecord(k, v)));
  return tarMember({ name, type: 'x', data });
}

export const END_OF_ARCHIVE = Buffer.alloc(1024);

/** A complete archive: members, then the two zero blocks (unless `eof: false`). */
export function tarArchive(members: Array<RawEntry | Buffer>, options: { eof?: boolean } = {}): Buffer {
  const parts = members.map((m) => (Buffer.isBuffer(m) ? m : tarMember(m)));
  if (options.eof !== false) parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}
