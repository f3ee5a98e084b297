// Draws a job's chunk grid on a canvas. A full paint happens only when the layout, the theme or the
// grid itself changes; otherwise each frame repaints just the cells the store marked dirty.
import type { ChunkGrid } from '../store/chunk-grid';
import { CHUNK_STATES } from '../store/chunk-grid';

export interface MapLayout {
  cols: number;
  rows: number;
  /** Cell edge and pitch (edge + gap) in CSS pixels. */
  cell: number;
  pitch: number;
  width: number;
  height: number;
}

const MAX_CELL = 14;

/** The biggest cells that fit `count` chunks into the width without passing `maxHeight`. */
export function layoutFor(count: number, width: number, maxHeight: number): MapLayout {
  const w = Math.max(40, Math.floor(width));
  let pitch = MAX_CELL + 2;
  while (pitch > 1) {
    const cols = Math.max(1, Math.floor(w / pitch));
    if (Math.ceil(count / cols) * pitch <= maxHeight) break;
    pitch--;
  }
  const gap = pitch >= 6 ? 2 : pitch >= 4 ? 1 : 0;
  const cols = Math.max(1, Math.floor(w / pitch));
  const rows = Math.max(1, Math.ceil(count / cols));
  return { cols, rows, cell: pitch - gap, pitch, width: cols * pitch, height: rows * pitch };
}

export function cellAt(layout: MapLayout, count: number, x: number, y: number): number | null {
  if (x < 0 || y < 0) return null;
  const col = Math.floor(x / layout.pitch);
  const row = Math.floor(y / layout.pitch);
  if (col >= layout.cols) return null;
  const index = row * layout.cols + col;
  return index < count ? index : null;
}

export interface PaintStats {
  cells: number;
  full: boolean;
  ms: number;
}

export class ChunkMapPainter {
  private grid: ChunkGrid | null = null;
  private layout: MapLayout | null = null;
  private colors: string[] = [];
  private background = '#000';
  private fetchingTrack = '#ccc';
  private needFull = true;
  private readonly ctx: CanvasRenderingContext2D;

  constructor(private readonly canvas: HTMLCanvasElement) {
    const ctx = canvas.getContext('2d', { alpha: false });
    if (!ctx) throw new Error('no 2D canvas');
    this.ctx = ctx;
  }

  /** Colours come from the theme's CSS variables so light and dark both read well. */
  readColors(): void {
    const style = getComputedStyle(this.canvas);
    this.colors = CHUNK_STATES.map((s) => style.getPropertyValue(`--chunk-${s}`).trim() || '#888');
    this.background = style.getPropertyValue('--chunk-bg').trim() || '#fff';
    this.fetchingTrack = style.getPropertyValue('--chunk-fetching-track').trim() || this.colors[0]!;
    this.needFull = true;
  }

  setGrid(grid: ChunkGrid, layout: MapLayout): void {
    const same = this.layout && this.layout.cols === layout.cols && this.layout.pitch === layout.pitch && this.layout.rows === layout.rows;
    if (grid !== this.grid || !same) this.needFull = true;
    this.grid = grid;
    if (!same) {
      const dpr = window.devicePixelRatio || 1;
      this.canvas.width = Math.max(1, Math.round(layout.width * dpr));
      this.canvas.height = Math.max(1, Math.round(layout.height * dpr));
      this.canvas.style.width = `${layout.width}px`;
      this.canvas.style.height = `${layout.height}px`;
      this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    }
    this.layout = layout;
  }

  paint(): PaintStats {
    const started = performance.now();
    const grid = this.grid;
    const layout = this.layout;
    if (!grid || !layout) return { cells: 0, full: false, ms: 0 };
    const dirty = grid.drainDirty();
    let cells: number;
    let full = false;
    if (this.needFull || dirty === 'all') {
      this.needFull = false;
      full = true;
      cells = this.paintAll(grid, layout);
    } else {
      cells = dirty.length;
      for (const i of dirty) this.paintCell(grid, layout, i);
    }
    return { cells, full, ms: performance.now() - started };
  }

  private paintAll(grid: ChunkGrid, layout: MapLayout): number {
    const ctx = this.ctx;
    ctx.fillStyle = this.background;
    ctx.fillRect(0, 0, layout.width, layout.height);
    const gap = layout.pitch - layout.cell;
    // Pending is most of a fresh map: with no gaps, whole rows are one rectangle each.
    if (gap === 0) {
      ctx.fillStyle = this.colors[0]!;
      const fullRows = Math.floor(grid.count / layout.cols);
      ctx.fillRect(0, 0, layout.cols * layout.pitch, fullRows * layout.pitch);
      const rest = grid.count - fullRows * layout.cols;
      if (rest > 0) ctx.fillRect(0, fullRows * layout.pitch, rest * layout.pitch, layout.pitch);
    }
    const states = grid.states;
    for (let code = gap === 0 ? 1 : 0; code < this.colors.length; code++) {
      if ((grid.tally[code] ?? 0) === 0) continue;
      ctx.fillStyle = this.colors[code]!;
      for (let i = 0; i < grid.count; i++) {
        if (states[i] !== code) continue;
        ctx.fillRect((i % layout.cols) * layout.pitch, Math.floor(i / layout.cols) * layout.pitch, layout.cell, layout.cell);
      }
    }
    // Partial fills of chunks being fetched go over their base colour.
    for (let i = 0; i < grid.count; i++) if (states[i] === 1) this.paintCell(grid, layout, i);
    return grid.count;
  }

  private paintCell(grid: ChunkGrid, layout: MapLayout, i: number): void {
    if (i >= grid.count) return;
    const ctx = this.ctx;
    const x = (i % layout.cols) * layout.pitch;
    const y = Math.floor(i / layout.cols) * layout.pitch;
    const code = grid.states[i]!;
    if (code === 1 && layout.cell >= 3) {
      // Fetching: a pale track with the fetched part rising from the bottom.
      const filled = Math.round((grid.fill[i]! / 255) * layout.cell);
      ctx.fillStyle = this.fetchingTrack;
      ctx.fillRect(x, y, layout.cell, layout.cell - filled);
      ctx.fillStyle = this.colors[1]!;
      ctx.fillRect(x, y + layout.cell - filled, layout.cell, filled);
      return;
    }
    ctx.fillStyle = this.colors[code]!;
    ctx.fillRect(x, y, layout.cell, layout.cell);
  }
}
