// Every chunk of the job as a cell on a canvas. The store marks changed cells; this view repaints
// them at most once per animation frame, however many batches arrived since the last one. Hover shows
// a chunk's range, click (or Enter on the focused cell) opens it in the inspector.
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import { useApp, useAppState } from '../context';
import { CHUNK_STATES } from '../store/chunk-grid';
import { chunkRange, formatBytes } from '../store/format';
import type { JobView } from '../store/model';
import { ChunkMapPainter, cellAt, layoutFor, type MapLayout } from './chunk-map-painter';

const MAX_HEIGHT = 420;

interface Hover {
  index: number;
  x: number;
  y: number;
}

export function ChunkMap({ job }: { job: JobView }) {
  const { store } = useApp();
  const selected = useAppState((s) => s.selectedChunk);
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const painterRef = useRef<ChunkMapPainter | null>(null);
  const [width, setWidth] = useState(0);
  const [hover, setHover] = useState<Hover | null>(null);
  const [cursor, setCursor] = useState<number | null>(null);
  const count = job.grid.count;
  const layout: MapLayout | null = width > 0 && count > 0 ? layoutFor(count, width, MAX_HEIGHT) : null;

  useLayoutEffect(() => {
    const wrap = wrapRef.current;
    if (!wrap) return;
    const observer = new ResizeObserver(() => setWidth(wrap.clientWidth));
    observer.observe(wrap);
    setWidth(wrap.clientWidth);
    return () => observer.disconnect();
  }, []);

  // One painter per canvas; colours re-read when the OS switches between light and dark.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const painter = new ChunkMapPainter(canvas);
    painter.readColors();
    painterRef.current = painter;
    const media = window.matchMedia('(prefers-color-scheme: dark)');
    const onTheme = () => {
      painter.readColors();
      schedule.current();
    };
    media.addEventListener('change', onTheme);
    return () => {
      media.removeEventListener('change', onTheme);
      painterRef.current = null;
    };
  }, []);

  // The frame loop: a change in the store asks for one frame; the frame paints all changes so far.
  const schedule = useRef<() => void>(() => undefined);
  const jobId = job.info.id;
  const layoutKey = layout ? `${layout.cols}x${layout.rows}@${layout.pitch}` : '';
  // biome-ignore lint/correctness/useExhaustiveDependencies: the layout object is new on every render; its key says when it changed.
  useEffect(() => {
    let frame = 0;
    const paint = () => {
      frame = 0;
      const painter = painterRef.current;
      const current = store.getState().jobs[jobId];
      if (!painter || !current || !layout) return;
      painter.setGrid(current.grid, layout);
      const stats = painter.paint();
      if (stats.cells > 0) performance.measure('chunk-map-paint', { start: performance.now() - stats.ms, duration: stats.ms, detail: stats });
    };
    schedule.current = () => {
      if (frame === 0) frame = requestAnimationFrame(paint);
    };
    schedule.current();
    let seen = store.getState().jobs[jobId]?.gridVersion;
    let seenGrid = store.getState().jobs[jobId]?.grid;
    const unsubscribe = store.subscribe((state) => {
      const view = state.jobs[jobId];
      if (!view || (view.gridVersion === seen && view.grid === seenGrid)) return;
      seen = view.gridVersion;
      seenGrid = view.grid;
      schedule.current();
    });
    return () => {
      unsubscribe();
      if (frame) cancelAnimationFrame(frame);
      schedule.current = () => undefined;
    };
  }, [store, jobId, layoutKey]);

  const pick = (index: number | null) => {
    if (index === null) return;
    setCursor(index);
    store.getState().selectChunk(index);
  };

  const locate = (event: MouseEvent<HTMLCanvasElement>): Hover | null => {
    if (!layout) return null;
    const rect = event.currentTarget.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const y = event.clientY - rect.top;
    const index = cellAt(layout, count, x, y);
    return index === null ? null : { index, x, y };
  };

  const onKey = (event: KeyboardEvent<HTMLCanvasElement>) => {
    if (!layout || count === 0) return;
    const at = cursor ?? selected ?? 0;
    const moves: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -layout.cols, ArrowDown: layout.cols, PageUp: -layout.cols * 10, PageDown: layout.cols * 10 };
    let next: number | null = null;
    if (event.key in moves) next = Math.min(count - 1, Math.max(0, at + moves[event.key]!));
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = count - 1;
    else if (event.key === 'Enter' || event.key === ' ') {
      pick(at);
      event.preventDefault();
      return;
    }
    if (next === null) return;
    event.preventDefault();
    setCursor(next);
  };

  const tally = CHUNK_STATES.map((s, code) => ({ s, n: job.grid.tally[code] ?? 0 })).filter((t) => t.n > 0);
  const summary = `${count} chunks: ${tally.map((t) => `${t.n} ${t.s}`).join(', ')}`;
  const size = job.probe?.size ?? null;
  const chunkSize = job.probe?.chunkSize ?? job.info.chunkSize ?? 0;
  const box = (index: number | null) =>
    index === null || !layout ? null : { left: (index % layout.cols) * layout.pitch, top: Math.floor(index / layout.cols) * layout.pitch, size: layout.cell };
  const cursorBox = box(cursor);
  const selectedBox = box(selected);

  return (
    <section className="panel" role="region" aria-label="Chunk map">
      <div className="panel-head">
        <h3>Chunk map</h3>
        <Legend job={job} />
      </div>
      <div className="map-wrap" ref={wrapRef}>
        {count === 0 ? <p className="muted">The chunk map appears once the source has been examined.</p> : null}
        {/* Before the probe there is nothing to draw: no blank (black) canvas, no hint about chunks. */}
        <div className="map-stage" style={count === 0 ? { display: 'none' } : undefined}>
          <canvas
            ref={canvasRef}
            className="chunk-canvas"
            tabIndex={count > 0 ? 0 : -1}
            role="img"
            aria-label={summary}
            aria-describedby="chunk-map-help"
            data-cols={layout?.cols}
            data-pitch={layout?.pitch}
            data-cell={layout?.cell}
            onMouseMove={(e) => setHover(locate(e))}
            onMouseLeave={() => setHover(null)}
            onClick={(e) => pick(locate(e)?.index ?? null)}
            onKeyDown={onKey}
            onBlur={() => setCursor(null)}
          />
          {selectedBox ? (
            <span className="map-mark selected-mark" style={{ left: selectedBox.left - 1, top: selectedBox.top - 1, width: selectedBox.size + 2, height: selectedBox.size + 2 }} />
          ) : null}
          {cursorBox ? (
            <span className="map-mark cursor-mark" style={{ left: cursorBox.left - 2, top: cursorBox.top - 2, width: cursorBox.size + 4, height: cursorBox.size + 4 }} />
          ) : null}
          {hover ? (
            <div className="map-tip" role="tooltip" style={{ left: Math.min(hover.x + 12, Math.max(0, (layout?.width ?? 0) - 240)), top: hover.y + 14 }}>
              <ChunkTip job={job} index={hover.index} chunkSize={chunkSize} size={size} />
            </div>
          ) : null}
        </div>
        {/* Always one line tall: a line that came and went with focus would move the panels below under the pointer. */}
        <p className="muted map-cursor-line" aria-live="polite" style={count === 0 ? { visibility: 'hidden' } : undefined}>
          {cursor !== null ? (
            <ChunkTip job={job} index={cursor} chunkSize={chunkSize} size={size} />
          ) : (
            <span id="chunk-map-help">Hover a chunk for its range; click it, or use the arrow keys and Enter, to inspect it.</span>
          )}
        </p>
      </div>
    </section>
  );
}

function ChunkTip({ job, index, chunkSize, size }: { job: JobView; index: number; chunkSize: number; size: number | null }) {
  const { start, end } = chunkRange(index, chunkSize, size);
  const code = job.lastErrorCode.get(index);
  return (
    <>
      <strong>Chunk {index}</strong> · {job.grid.stateOf(index)} · bytes {start.toLocaleString('en-US')}–{end.toLocaleString('en-US')} ({formatBytes(end - start + 1)})
      {code ? ` · last error ${code}` : ''}
    </>
  );
}

function Legend({ job }: { job: JobView }) {
  return (
    <ul className="legend" aria-label="Legend">
      {CHUNK_STATES.map((s, code) => (
        <li key={s}>
          <span className={`swatch swatch-${s}`} aria-hidden="true" />
          {s} <span className="muted">{(job.grid.tally[code] ?? 0).toLocaleString('en-US')}</span>
        </li>
      ))}
    </ul>
  );
}
