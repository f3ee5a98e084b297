// pax extended header records (`<length> <key>=<value>\n`), read as GNU tar reads them: values are bytes
// (names decoded losslessly, whatever `hdrcharset` says), repeated keys kept in order (GNU sparse 0.0 repeats
// `GNU.sparse.offset` / `GNU.sparse.numbytes`), and the first malformed record (bad length, NUL in the key,
// no `=`, no newline) ends the header with a problem the caller reports (a warning, fatal in strict mode).

export interface PaxRecords {
  records: Array<[string, Buffer]>;
  /** Why the header was cut short, or null when every record was well formed. */
  problem: string | null;
}

export function parsePax(body: Buffer): PaxRecords {
  const records: Array<[string, Buffer]> = [];
  let at = 0;
  // GNU tar and bsdtar write no padding inside the body, but some writers end it with NULs: tolerated.
  let end = body.length;
  while (end > 0 && body[end - 1] === 0) end--;
  while (at < end) {
    let i = at;
    while (i < end && body[i]! >= 0x30 && body[i]! <= 0x39) i++;
    if (i === at || body[i] !== 0x20) return { records, problem: `a record at byte ${at} does not start with its length` };
    const len = Number(body.toString('latin1', at, i));
    if (!Number.isSafeInteger(len) || len <= i - at + 1 || at + len > end) {
      return { records, problem: `a record at byte ${at} declares a length (${len}) that does not fit the header` };
    }
    const recEnd = at + len;
    if (body[recEnd - 1] !== 0x0a) return { records, problem: `the record at byte ${at} does not end with a newline` };
    const eq = body.indexOf(0x3d, i + 1);
    if (eq < 0 || eq >= recEnd - 1) return { records, problem: `the record at byte ${at} has no "="` };
    if (eq === i + 1) return { records, problem: `the record at byte ${at} has an empty key` };
    const keyBytes = body.subarray(i + 1, eq);
    if (keyBytes.includes(0)) return { records, problem: `the key of the record at byte ${at} contains a NUL byte` };
    records.push([keyBytes.toString('utf8'), body.subarray(eq + 1, recEnd - 1)]);
    at = recEnd;
  }
  return { records, problem: null };
}

/** The last value of `key`, or undefined. */
export function lastValue(records: Array<[string, Buffer]>, key: string): Buffer | undefined {
  for (let i = records.length - 1; i >= 0; i--) if (records[i]![0] === key) return records[i]![1];
  return undefined;
}

/** A decimal pax number (`size`, `GNU.sparse.realsize`...): null when not one. */
export function paxInteger(v: Buffer | undefined): number | null {
  if (v === undefined) return null;
  const s = v.toString('latin1');
  if (!/^[0-9]+$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

/** A pax time (`mtime`): seconds with an optional fraction, possibly negative. */
export function paxTime(v: Buffer | undefined): number | null {
  if (v === undefined) return null;
  const s = v.toString('latin1');
  if (!/^-?[0-9]+(\.[0-9]*)?$/.test(s)) return null;
  return Number.parseFloat(s);
}
