import { blitCellsOnce } from '../src/datagrid';

type Copy = [unknown, number, number, number, number, number?, number?];

/** The two private methods of Lumino's DataGrid the change wraps, as Lumino 2 calls them: each
 * cell copied in place (x2 = x, y2 = y), one after the other. (tests/browser checks the real grid.) */
function gridClass(cells: Copy[], groups = 0) {
  class Grid {
    copies: Copy[] = [];
    dataModel = { groupCount: () => groups };
    _blitContent(...copy: Copy) {
      this.copies.push(copy);
    }
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    _drawCells(paintRegion: { region: string }) {
      for (const cell of cells) {
        this._blitContent(...cell);
      }
    }
  }
  return Grid;
}

const buffer = {};
const cellsOf2x2: Copy[] = [
  [buffer, 10, 20, 50, 20, 10, 20],
  [buffer, 10, 40, 50, 20, 10, 40],
  [buffer, 60, 20, 30, 20, 60, 20],
  [buffer, 60, 40, 30, 20, 60, 40]
];
const region = { region: 'body' as const };

describe('blitCellsOnce', () => {
  it("copies a region's cells as the one rectangle they tile", () => {
    const Grid = gridClass(cellsOf2x2);
    expect(blitCellsOnce(Grid.prototype)).toBe(true);
    const grid = new Grid();
    grid._drawCells(region);
    expect(grid.copies).toEqual([[buffer, 10, 20, 80, 40, 10, 20]]);
    expect(Object.prototype.hasOwnProperty.call(grid, '_blitContent')).toBe(false);
    expect(blitCellsOnce(Grid.prototype)).toBe(false); // once
  });

  it('keeps the order of a copy that is not in place, and leaves merged regions to Lumino', () => {
    const moved: Copy = [buffer, 0, 0, 5, 5, 30, 30];
    const Grid = gridClass([cellsOf2x2[0], moved, cellsOf2x2[1]]);
    blitCellsOnce(Grid.prototype);
    const grid = new Grid();
    grid._drawCells(region);
    expect(grid.copies).toEqual([cellsOf2x2[0], moved, cellsOf2x2[1]]);

    const Merged = gridClass(cellsOf2x2, 1);
    blitCellsOnce(Merged.prototype);
    const merged = new Merged();
    merged._drawCells(region);
    expect(merged.copies).toEqual(cellsOf2x2);
  });

  it('does nothing to a grid without the methods it wraps', () => {
    expect(blitCellsOnce({})).toBe(false);
  });
});
