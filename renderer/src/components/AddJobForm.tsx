// "Add snapshot": URL, destination (typed here, or picked with the native dialog in the desktop app),
// optional SHA-256 and the advanced settings, defaulting to the saved settings. The host validates;
// its messages appear next to the field they concern.
import { useEffect, useId, useState, type FormEvent } from 'react';
import { asSerializedError, type AddJobRequest, type InvokeResponse, type Settings } from '../../../shared/contract';
import { useApp } from '../context';
import type { SerializedError } from '../store/model';
import { ErrorDetails } from './ErrorDetails';
import { fieldErrors } from '../store/field-errors';
import { parseSha256Input } from '../store/sha256-input';
import { parseMirrorsInput } from '../store/mirrors-input';
import { formatBytes } from '../store/format';
import { accessRequest, emptyAccess, RequestAccessFields, type AccessDraft } from './RequestAccessFields';

const MiB = 1024 * 1024;

interface Draft {
  url: string;
  dest: string;
  downloadOnly: boolean;
  sha256: string;
  /** Other URLs of the same file, one a line. */
  mirrors: string;
  chunkMiB: string;
  window: string;
  concurrency: string;
  retries: string;
  idleSeconds: string;
  rateMiB: string;
  format: 'auto' | 'tar' | 'gzip' | 'lz4' | 'zstd';
  strict: boolean;
  force: boolean;
}

function draftFrom(settings: Settings | null): Draft {
  return {
    url: '',
    dest: settings?.defaultDest ? settings.defaultDest.replace(/[\\/]+$/, '') + '/' : '',
    downloadOnly: false,
    sha256: '',
    mirrors: '',
    chunkMiB: String((settings?.chunkSize ?? 64 * MiB) / MiB),
    window: String(settings?.window ?? 4),
    concurrency: String(settings?.concurrency ?? 4),
    retries: String(settings?.retries ?? 8),
    idleSeconds: String((settings?.idleTimeoutMs ?? 30_000) / 1000),
    rateMiB: settings?.limitRate ? String(+(settings.limitRate / MiB).toFixed(2)) : '',
    format: 'auto',
    strict: false,
    force: false,
  };
}

/** Numbers the operator typed, or a message for the field; empty means "use the default". */
function parseNumber(text: string, scale = 1): number | undefined | string {
  if (text.trim() === '') return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) return 'a positive number';
  return Math.round(n * scale);
}

export function AddJobForm({ onClose }: { onClose: () => void }) {
  const { api, info, store } = useApp();
  const [settings, setSettings] = useState<Settings | null>(null);
  const [draft, setDraft] = useState<Draft>(() => draftFrom(null));
  const [access, setAccess] = useState<AccessDraft>(emptyAccess);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<SerializedError | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();
  const canChoose = info?.capabilities.chooseDestination ?? false;
  const check = useDestinationCheck(draft.dest.trim(), draft.downloadOnly, draft.force);

  useEffect(() => {
    let live = true;
    api
      .getSettings()
      .then((s) => {
        if (!live) return;
        setSettings(s);
        setDraft((d) => ({ ...draftFrom(s), url: d.url, dest: d.dest || draftFrom(s).dest }));
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [api]);

  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((d) => ({ ...d, [key]: value }));

  async function choose() {
    try {
      const picked = await api.chooseDestination({ title: 'Extract the snapshot into…', ...(settings?.defaultDest ? { defaultPath: settings.defaultDest } : {}) });
      if (picked.path) set('dest', picked.path);
    } catch (err) {
      setFailure(asSerializedError(err));
    }
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const local: Record<string, string> = {};
    if (!draft.url.trim()) local['url'] = 'Enter the snapshot’s http:// or https:// address.';
    if (!draft.dest.trim()) local['dest'] = draft.downloadOnly ? 'Enter the file to write.' : 'Enter the folder to extract into.';
    const request: AddJobRequest = { url: draft.url.trim() };
    if (draft.downloadOnly) request.output = draft.dest.trim();
    else request.dest = draft.dest.trim();
    if (draft.sha256.trim()) {
      const digest = parseSha256Input(draft.sha256);
      if (digest) request.sha256 = digest;
      else local['sha256'] = 'Paste the 64 hexadecimal digits, or a line of sha256sum output.';
    }
    const mirrors = parseMirrorsInput(draft.mirrors);
    if ('error' in mirrors) local['mirrors'] = mirrors.error;
    else if (mirrors.mirrors.length > 0) request.mirrors = mirrors.mirrors;
    if (draft.format !== 'auto') request.format = draft.format;
    if (draft.strict) request.strict = true;
    if (draft.force) request.force = true;
    Object.assign(request, accessRequest(access));
    const numbers: Array<[keyof Draft & string, 'chunkSize' | 'window' | 'concurrency' | 'retries' | 'idleTimeoutMs' | 'limitRate', number]> = [
      ['chunkMiB', 'chunkSize', MiB],
      ['window', 'window', 1],
      ['concurrency', 'concurrency', 1],
      ['retries', 'retries', 1],
      ['idleSeconds', 'idleTimeoutMs', 1000],
      ['rateMiB', 'limitRate', MiB],
    ];
    for (const [field, key, scale] of numbers) {
      const parsed = parseNumber(String(draft[field]), scale);
      if (typeof parsed === 'string') local[key] = `Use ${parsed}.`;
      else if (parsed !== undefined) request[key] = parsed;
    }
    setErrors(local);
    setFailure(null);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    try {
      const job = await api.addJob(request);
      store.getState().ingest({ channel: 'jobSnapshot', payload: job });
      store.getState().selectJob(job.id);
      onClose();
    } catch (err) {
      const error = asSerializedError(err);
      const byField = fieldErrors(error);
      setErrors(byField);
      if (Object.keys(byField).length === 0 || byField['form']) setFailure(error);
    } finally {
      setBusy(false);
    }
  }

  const destError = errors['dest'] ?? errors['output'];
  return (
    <section className="panel add-job" aria-label="Add a snapshot">
      <h2>Add a snapshot</h2>
      <form onSubmit={submit} noValidate>
        <div className="field wide">
          <label htmlFor={`${id}-url`}>Snapshot URL</label>
          <input
            id={`${id}-url`}
            type="text"
            inputMode="url"
            autoComplete="off"
            spellCheck={false}
            placeholder="https://snapshots.example.org/node/latest.tar.zst"
            value={draft.url}
            onChange={(e) => set('url', e.target.value)}
            aria-invalid={errors['url'] ? true : undefined}
            aria-describedby={errors['url'] ? `${id}-url-error` : undefined}
            autoFocus
          />
          {errors['url'] ? (
            <p id={`${id}-url-error`} className="field-error">
              {errors['url']}
            </p>
          ) : null}
        </div>
        <div className="field wide">
          <label htmlFor={`${id}-dest`}>{draft.downloadOnly ? 'Output file' : 'Destination'}</label>
          <div className="with-button">
            <input
              id={`${id}-dest`}
              type="text"
              autoComplete="off"
              spellCheck={false}
              placeholder={draft.downloadOnly ? '/data/snapshots/latest.tar.zst' : '/data/node'}
              value={draft.dest}
              onChange={(e) => set('dest', e.target.value)}
              aria-invalid={destError ? true : undefined}
              aria-describedby={destError ? `${id}-dest-error` : undefined}
            />
            {canChoose && !draft.downloadOnly ? (
              <button type="button" onClick={choose}>
                Choose…
              </button>
            ) : null}
          </div>
          {destError ? (
            <p id={`${id}-dest-error`} className="field-error">
              {destError}
            </p>
          ) : check?.problem ? (
            <p id={`${id}-dest-error`} className="field-error" role="status">
              {check.problem.message}
            </p>
          ) : check?.freeBytes != null ? (
            <p className="muted field-note">{formatBytes(check.freeBytes)} free on that disk.</p>
          ) : null}
          {check?.problem?.code === 'E_DEST_NOT_EMPTY' || draft.force ? (
            <label className="check">
              <input type="checkbox" checked={draft.force} onChange={(e) => set('force', e.target.checked)} /> Extract into a non-empty folder (or over an existing file)
            </label>
          ) : null}
        </div>
        <div className="field">
          <label className="check">
            <input type="checkbox" checked={draft.downloadOnly} onChange={(e) => set('downloadOnly', e.target.checked)} /> Download only (keep the archive, do not extract)
          </label>
        </div>
        <div className="field wide">
          <label htmlFor={`${id}-sha`}>SHA-256 (optional)</label>
          <input
            id={`${id}-sha`}
            type="text"
            autoComplete="off"
            spellCheck={false}
            placeholder="64 hexadecimal digits, or a line of sha256sum output"
            value={draft.sha256}
            onChange={(e) => set('sha256', e.target.value)}
            onBlur={() => {
              // A pasted "digest  file" line is shown as the digest it stands for.
              const digest = parseSha256Input(draft.sha256);
              if (digest && digest !== draft.sha256) set('sha256', digest);
            }}
            aria-invalid={errors['sha256'] ? true : undefined}
          />
          {errors['sha256'] ? <p className="field-error">{errors['sha256']}</p> : null}
        </div>
        <div className="field wide">
          <label htmlFor={`${id}-mirrors`}>Mirrors (optional, one URL per line)</label>
          <textarea
            id={`${id}-mirrors`}
            rows={2}
            autoComplete="off"
            spellCheck={false}
            placeholder="https://mirror.example.org/snapshot.tar.gz"
            value={draft.mirrors}
            onChange={(e) => set('mirrors', e.target.value)}
            aria-invalid={errors['mirrors'] ? true : undefined}
            aria-describedby={`${id}-mirrors-hint`}
          />
          <p id={`${id}-mirrors-hint`} className="muted">
            Each is checked for the same file (size, and ETag unless a checksum is given); ranges go to the fastest, a failing one is set aside and tried again.
          </p>
          {errors['mirrors'] ? <p className="field-error">{errors['mirrors']}</p> : null}
        </div>
        <details className="advanced">
          <summary>Advanced settings</summary>
          <div className="grid-fields">
            <NumberField label="Chunk size (MiB)" value={draft.chunkMiB} onChange={(v) => set('chunkMiB', v)} error={errors['chunkSize']} />
            <NumberField label="Window (chunks on disk)" value={draft.window} onChange={(v) => set('window', v)} error={errors['window']} />
            <NumberField label="Parallel connections" value={draft.concurrency} onChange={(v) => set('concurrency', v)} error={errors['concurrency']} />
            <NumberField label="Retries per chunk" value={draft.retries} onChange={(v) => set('retries', v)} error={errors['retries']} />
            <NumberField label="Idle timeout (s without data)" value={draft.idleSeconds} onChange={(v) => set('idleSeconds', v)} error={errors['idleTimeoutMs']} />
            <NumberField label="Rate limit (MiB/s, empty: none)" value={draft.rateMiB} onChange={(v) => set('rateMiB', v)} error={errors['limitRate']} />
            <div className="field">
              <label htmlFor={`${id}-format`}>Archive format</label>
              <select id={`${id}-format`} value={draft.format} onChange={(e) => set('format', e.target.value as Draft['format'])}>
                <option value="auto">Detect</option>
                <option value="tar">tar</option>
                <option value="gzip">tar.gz</option>
                <option value="lz4">tar.lz4</option>
                <option value="zstd">tar.zst</option>
              </select>
            </div>
            <label className="check">
              <input type="checkbox" checked={draft.strict} onChange={(e) => set('strict', e.target.checked)} /> Stop on unsafe entries (instead of skipping them)
            </label>
          </div>
        </details>
        <RequestAccessFields value={access} onChange={setAccess} errors={errors} />
        {failure ? (
          <div className="form-error" role="alert">
            <ErrorDetails error={failure} />
          </div>
        ) : null}
        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy}>
            Start
          </button>
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </form>
    </section>
  );
}

/** Asks the host, a moment after the operator stops typing, whether the destination can be used as given. */
function useDestinationCheck(path: string, downloadOnly: boolean, force: boolean): InvokeResponse<'checkDestination'> | null {
  const { api } = useApp();
  const [report, setReport] = useState<InvokeResponse<'checkDestination'> | null>(null);
  useEffect(() => {
    setReport(null);
    // Absolute (POSIX or Windows) and not still being typed as "…/": the host validates the rest.
    if (!/^(\/|[A-Za-z]:[\\/]|\\\\)/.test(path) || /[\\/]$/.test(path)) return;
    let live = true;
    const timer = setTimeout(() => {
      api.checkDestination({ path, downloadOnly, force }).then(
        (r) => live && setReport(r),
        () => undefined, // a path the host refuses is said when Start is pressed
      );
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, path, downloadOnly, force]);
  return report;
}

function NumberField({ label, value, onChange, error }: { label: string; value: string; onChange: (v: string) => void; error: string | undefined }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="text" inputMode="decimal" value={value} onChange={(e) => onChange(e.target.value)} aria-invalid={error ? true : undefined} />
      {error ? <p className="field-error">{error}</p> : null}
    </div>
  );
}
