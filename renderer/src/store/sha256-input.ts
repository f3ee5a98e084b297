// What operators paste into the SHA-256 field: the bare digest, or a line of `sha256sum` output
// ("<64 hex>  name", "<64 hex> *name" in binary mode), or BSD's "SHA256 (name) = <64 hex>".

/** The lower-case digest in `text`, or null when it holds none in a known shape. */
export function parseSha256Input(text: string): string | null {
  const t = text.trim();
  const gnu = /^\\?([0-9a-fA-F]{64})(?:\s+\*?.*)?$/.exec(t);
  if (gnu) return gnu[1]!.toLowerCase();
  const bsd = /^SHA256\s*\(.*\)\s*=\s*([0-9a-fA-F]{64})$/.exec(t);
  if (bsd) return bsd[1]!.toLowerCase();
  return null;
}
