// The add-job form's mirrors field: one URL per line (blank lines ignored), each an absolute http(s) URL
// without credentials, as the host will require; the first bad line is named, its query string not shown.

const MAX_MIRRORS = 16;

export function parseMirrorsInput(text: string): { mirrors: string[] } | { error: string } {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length > MAX_MIRRORS) return { error: `At most ${MAX_MIRRORS} mirrors.` };
  for (const [i, line] of lines.entries()) {
    let url: URL | null = null;
    try {
      url = new URL(line);
    } catch {
      url = null;
    }
    const shown = line.replace(/\?.*$/, '?…');
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
      return { error: `Line ${i + 1} (${shown}) is not an http:// or https:// address.` };
    }
    if (url.username || url.password) return { error: `Line ${i + 1}: credentials in the address are not supported; use a presigned URL.` };
  }
  return { mirrors: [...new Set(lines)] };
}
