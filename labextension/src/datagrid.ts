/**
 * Lumino's DataGrid (the grid of ipydatagrid, and so of our data viewer) paints each region's
 * cells into an off-screen buffer and copies each cell to the screen with its own drawImage. A
 * canvas drawn from another canvas changed since its last draw is copied whole first, so without
 * a GPU (headless browsers, most virtual machines and remote desktops) every cell costs a copy of
 * the whole buffer: measured in Chromium, an 18 x 4 window of the app's data page took 268 such
 * copies, 0.7 to 1.3 s of its open. Here a region's cells are copied once, as one rectangle: the
 * same pixels, since the cells of a region tile it. A region with merged cells (whose cells are
 * painted apart from the others) keeps Lumino's own way.
 *
 * Written for @lumino/datagrid >=2.4 <3 (Voila 0.5 ships 2.4, JupyterLab 4.6 2.5), whose private
 * painting methods it wraps; tests/browser/test_data.py fails when they no longer paint this way.
 */
import type { DataModel } from '@lumino/datagrid';

type Blit = (
  source: HTMLCanvasElement,
  x: number,
  y: number,
  width: number,
  height: number,
  x2?: number,
  y2?: number
) => void;

interface IPaintRegion {
  region: DataModel.CellRegion;
}

/** The private methods of DataGrid this relies on (tests/browser checks they still paint). */
interface IPainting {
  _blitContent: Blit;
  _drawCells: (paintRegion: IPaintRegion) => void;
  dataModel: { groupCount?: (region: DataModel.CellRegion) => number } | null;
}

const PATCHED = Symbol.for('jupyter-mlapp:datagrid-blit-once');

/** Copy each painted region's cells to the screen at once (``prototype``: DataGrid's). False if
 * DataGrid has changed underneath (its methods are not there) or it is done already. */
export function blitCellsOnce(prototype: object): boolean {
  const grid = prototype as IPainting & { [PATCHED]?: boolean };
  if (
    grid[PATCHED] ||
    typeof grid._drawCells !== 'function' ||
    typeof grid._blitContent !== 'function'
  ) {
    return false;
  }
  const drawCells = grid._drawCells;
  const blit = grid._blitContent;
  grid._drawCells = function (this: IPainting, paintRegion: IPaintRegion) {
    if ((this.dataModel?.groupCount?.(paintRegion.region) ?? 0) > 0) {
      drawCells.call(this, paintRegion);
      return;
    }
    let source: HTMLCanvasElement | null = null;
    let x1 = Infinity;
    let y1 = Infinity;
    let x2 = -Infinity;
    let y2 = -Infinity;
    const flush = () => {
      if (source) {
        blit.call(this, source, x1, y1, x2 - x1, y2 - y1, x1, y1);
      }
      source = null;
      x1 = y1 = Infinity;
      x2 = y2 = -Infinity;
    };
    // An own property for this call only: the cells' copies are gathered into one rectangle.
    this._blitContent = (canvas, x, y, width, height, toX = x, toY = y) => {
      if (toX !== x || toY !== y || width <= 0 || height <= 0 || (source && canvas !== source)) {
        flush(); // not a cell's copy in place: done as Lumino does it, in order
        blit.call(this, canvas, x, y, width, height, toX, toY);
        return;
      }
      source = canvas;
      x1 = Math.min(x1, x);
      y1 = Math.min(y1, y);
      x2 = Math.max(x2, x + width);
      y2 = Math.max(y2, y + height);
    };
    try {
      drawCells.call(this, paintRegion);
    } finally {
      delete (this as Partial<IPainting>)._blitContent;
      flush();
    }
  };
  grid[PATCHED] = true;
  return true;
}
