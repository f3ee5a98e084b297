// What the writer tells about members it skipped or changed: each one as it happens (onWarning), and a
// bounded record of them kept in checkpoints and the result. In strict mode a finding stops the extraction.
import { ArchiveError } from '../../errors';
import { EntryTally } from '../entry-tally';
import type { EntryHeader, EntryWarningCode, SkippedEntry } from '../extract-types';
import type { EntryWarning, WriterState } from './writer-types';

export class MemberReports {
  readonly skipped = new EntryTally();
  readonly warnings = new EntryTally();

  constructor(
    private readonly strict: boolean,
    private readonly onWarning: ((w: EntryWarning) => void) | undefined,
    saved?: WriterState,
  ) {
    if (saved) {
      this.skipped.restore(saved.skipped, saved.skippedCounts);
      this.warnings.restore(saved.warnings, saved.warningCounts);
    }
  }

  /** A member skipped (or extracted with a change): a warning, or in strict mode a fatal error. */
  report(entry: EntryHeader, code: EntryWarningCode, reason: string, skipped: boolean): void {
    const w: SkippedEntry = { entry: entry.name, code, reason };
    if (this.strict) {
      throw new ArchiveError('E_UNSAFE_ENTRY', `Unsafe archive member "${entry.name}": ${reason} (strict mode).`, {
        details: { entry: entry.name, warning: code, reason, offset: entry.offset },
      });
    }
    (skipped ? this.skipped : this.warnings).add(w);
    this.onWarning?.({ ...w, skipped });
  }

  /**
   * A directory's mode and time left unapplied at the end (its path crosses a link now): a warning even in
   * strict mode, as every member was extracted by then.
   */
  metadataRefused(key: string, problem: string): void {
    const w: SkippedEntry = { entry: key, code: 'THROUGH_LINK', reason: `its mode and time were not applied: ${problem}` };
    this.warnings.add(w);
    this.onWarning?.({ ...w, skipped: false });
  }

  /** The tallies as WriterState keeps them. */
  saved(): Pick<WriterState, 'skipped' | 'warnings' | 'skippedCounts' | 'warningCounts'> {
    return {
      skipped: [...this.skipped.sample],
      warnings: [...this.warnings.sample],
      skippedCounts: this.skipped.byCode(),
      warningCounts: this.warnings.byCode(),
    };
  }
}
