// Defaults for new jobs and the app's behaviour, saved by the host (they survive restarts).
import { useEffect, useId, useState, type FormEvent } from 'react';
import { asSerializedError, type Settings } from '../../../shared/contract';
import { useApp } from '../context';
import { fieldErrors } from '../store/field-errors';

const MiB = 1024 * 1024;

export function SettingsPanel({ onClose }: { onClose: () => void }) {
  const { api, transport } = useApp();
  const [settings, setSettings] = useState<Settings | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);
  /** Fields whose text is not a number: saved only once they are (NaN would travel as null, i.e. "none"). */
  const [unparsed, setUnparsed] = useState<Record<string, string>>({});
  const id = useId();

  useEffect(() => {
    api.getSettings().then(setSettings, (err) => setErrors({ form: asSerializedError(err).message }));
  }, [api]);

  if (!settings) {
    return (
      <section className="panel" aria-label="Settings">
        <h2>Settings</h2>
        <p className="muted">{errors['form'] ?? 'Loading…'}</p>
      </section>
    );
  }

  const update = (patch: Partial<Settings>) => {
    setSaved(false);
    setSettings({ ...settings, ...patch });
  };
  const num = (text: string, scale = 1) => (text.trim() === '' ? NaN : Math.round(Number(text) * scale));
  /** Checks the text of a numeric field; empty is allowed only where it means "none". */
  const check = (key: keyof Settings, text: string, emptyMeans: string | null, allowZero = false): boolean => {
    const t = text.trim();
    const ok = t === '' ? emptyMeans !== null : /^\d+(\.\d+)?$/.test(t) && (allowZero ? Number(t) >= 0 : Number(t) > 0);
    setUnparsed((u) => {
      const { [key]: _gone, ...rest } = u;
      return ok ? rest : { ...rest, [key]: `Enter a ${allowZero ? 'whole' : 'positive'} number${emptyMeans ? `, or leave it empty for ${emptyMeans}` : ''} (not “${t}”).` };
    });
    return ok;
  };

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!settings) return;
    if (Object.keys(unparsed).length > 0) {
      setSaved(false);
      setErrors(unparsed);
      return;
    }
    try {
      const next = await api.setSettings(settings);
      setSettings(next);
      setErrors({});
      setSaved(true);
    } catch (err) {
      setErrors(fieldErrors(asSerializedError(err)));
    }
  }

  return (
    <section className="panel settings" aria-label="Settings">
      <h2>Settings</h2>
      <form onSubmit={save} noValidate>
        <div className="grid-fields">
          <div className="field wide">
            <label htmlFor={`${id}-dest`}>Default destination folder</label>
            <input
              id={`${id}-dest`}
              type="text"
              value={settings.defaultDest ?? ''}
              onChange={(e) => update({ defaultDest: e.target.value.trim() === '' ? null : e.target.value })}
            />
            {errors['defaultDest'] ? <p className="field-error">{errors['defaultDest']}</p> : null}
          </div>
          <Num
            label="Chunk size (MiB)"
            value={settings.chunkSize / MiB}
            error={errors['chunkSize']}
            onChange={(t) => check('chunkSize', t, null) && update({ chunkSize: num(t, MiB) })}
          />
          <Num label="Window (chunks on disk)" value={settings.window} error={errors['window']} onChange={(t) => check('window', t, null) && update({ window: num(t) })} />
          <Num
            label="Parallel connections"
            value={settings.concurrency}
            error={errors['concurrency']}
            onChange={(t) => check('concurrency', t, null) && update({ concurrency: num(t) })}
          />
          <Num label="Retries per chunk" value={settings.retries} error={errors['retries']} onChange={(t) => check('retries', t, null, true) && update({ retries: num(t) })} />
          <Num
            label="Idle timeout (s without data)"
            value={settings.idleTimeoutMs / 1000}
            error={errors['idleTimeoutMs']}
            onChange={(t) => check('idleTimeoutMs', t, null) && update({ idleTimeoutMs: num(t, 1000) })}
          />
          <Num
            label="Rate limit per job (MiB/s, empty: none)"
            value={settings.limitRate === null ? '' : +(settings.limitRate / MiB).toFixed(2)}
            error={errors['limitRate']}
            onChange={(t) => check('limitRate', t, 'no limit') && update({ limitRate: t.trim() === '' ? null : num(t, MiB) })}
          />
          <label className="check">
            <input type="checkbox" checked={settings.keepAwake} disabled={transport !== 'electron'} onChange={(e) => update({ keepAwake: e.target.checked })} /> Keep the computer
            awake while downloading
          </label>
          <label className="check">
            <input type="checkbox" checked={settings.notify} disabled={transport !== 'electron'} onChange={(e) => update({ notify: e.target.checked })} /> Notify when a job
            finishes or fails
          </label>
        </div>
        {errors['form'] ? <p className="field-error">{errors['form']}</p> : null}
        <div className="form-actions">
          <button type="submit" className="primary">
            Save settings
          </button>
          <button type="button" onClick={onClose}>
            Close
          </button>
          {saved ? <span role="status">Saved.</span> : null}
        </div>
      </form>
    </section>
  );
}

function Num({ label, value, error, onChange }: { label: string; value: number | string; error: string | undefined; onChange: (text: string) => void }) {
  const id = useId();
  const [text, setText] = useState(String(value));
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="text"
        inputMode="decimal"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          onChange(e.target.value);
        }}
        aria-invalid={error ? true : undefined}
      />
      {error ? <p className="field-error">{error}</p> : null}
    </div>
  );
}
