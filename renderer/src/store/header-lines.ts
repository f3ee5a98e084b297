// The add form's request headers: the lines the operator typed, as the host takes them, and what may be shown
// of them (names, each value masked). The host checks each line as the CLI checks --header.

/** The non-blank lines, trimmed of the line ending only (a value's own spaces are the host's to judge). */
export function headerLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '');
}

/** `name: ••••` for each line with a colon (lowercase name, as sent); lines without one are left to the host. */
export function maskedHeaders(text: string): string[] {
  return headerLines(text)
    .filter((l) => l.includes(':'))
    .map((l) => `${l.slice(0, l.indexOf(':')).trim().toLowerCase()}: ${'•'.repeat(4)}`);
}
