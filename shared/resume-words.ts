// The words for a job's format and where it resumes: the window's job view, the CLI and the job log say
// them the same way. No zod and no node: the renderer imports this as is.

export type ResumeModeName = 'any-byte' | 'block' | 'frame' | 'chunk' | 'none';

const FORMAT_NAMES: Record<string, string> = { tar: 'tar', gzip: 'tar.gz', lz4: 'tar.lz4', zstd: 'tar.zst', raw: 'raw file' };

/** tar, tar.gz, tar.lz4, tar.zst, or raw file for a download. */
export function formatName(format: string): string {
  return FORMAT_NAMES[format] ?? format;
}

/** Where a stopped job continues: "resumable at any block", "restarts from the beginning", ... */
export function resumeWords(resume: ResumeModeName): string {
  switch (resume) {
    case 'any-byte':
      return 'resumable at any byte';
    case 'block':
      return 'resumable at any block';
    case 'frame':
      return 'resumable at frame starts';
    case 'chunk':
      return 'resumable at any chunk';
    case 'none':
      return 'restarts from the beginning';
  }
}

/** "tar.zst, resumable at any block"; a job that cannot resume says why. */
export function decodingLine(d: { format: string; resume: ResumeModeName; reason: string | null }): string {
  return `${formatName(d.format)}, ${resumeWords(d.resume)}${d.resume === 'none' && d.reason ? ` (${d.reason})` : ''}`;
}
