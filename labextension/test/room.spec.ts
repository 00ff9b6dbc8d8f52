import { RoomModel } from '../src/room';

const visible = { visible: () => true };

/** A room whose loads answer `answers` in turn (an Error is thrown), then the last again. */
function room(answers: Array<number[] | Error>) {
  let loads = 0;
  const waiting: Array<{ count: number; resolve: () => void }> = [];
  const model = new RoomModel<number[]>({
    name: 'Test',
    interval: 5,
    max: 5,
    load: async () => {
      const answer = answers[Math.min(loads, answers.length - 1)];
      loads += 1;
      for (const wait of waiting.filter(w => loads >= w.count)) {
        wait.resolve();
      }
      if (answer instanceof Error) {
        throw answer;
      }
      return answer;
    }
  });
  const emitted: Array<{ data: number[] | null; error: string | null }> = [];
  model.changed.connect(() =>
    emitted.push({ data: model.data, error: model.error?.message ?? null })
  );
  const loaded = (count: number) =>
    new Promise<void>(resolve => {
      if (loads >= count) {
        resolve();
      } else {
        waiting.push({ count, resolve });
      }
    }).then(() => new Promise(resolve => setTimeout(resolve, 1)));
  return { model, emitted, loaded, loads: () => loads };
}

describe('RoomModel', () => {
  it('emits once per change of its data, not once per load', async () => {
    const { model, emitted, loaded } = room([[1], [1], [1, 2], [1, 2]]);
    const watching = model.watch(visible);
    await loaded(4);
    expect(emitted).toEqual([
      { data: [1], error: null },
      { data: [1, 2], error: null }
    ]);
    watching.dispose();
    model.dispose();
  });

  it('surfaces an error, keeps the last data, and clears the error on success', async () => {
    const { model, emitted, loaded } = room([[1], new Error('boom'), new Error('boom'), [1]]);
    const watching = model.watch(visible);
    await loaded(4);
    expect(emitted).toEqual([
      { data: [1], error: null },
      { data: [1], error: 'boom' },
      { data: [1], error: null }
    ]);
    watching.dispose();
    model.dispose();
  });

  it('polls only while a watcher is visible', async () => {
    const { model, loads } = room([[1]]);
    const watching = model.watch({ visible: () => false });
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(loads()).toBe(0);
    watching.dispose();
    model.dispose();
  });

  it('stops polling when disposed', async () => {
    const { model, loaded, loads } = room([[1], [2], [3]]);
    model.watch(visible);
    await loaded(2);
    model.dispose();
    const count = loads();
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(loads()).toBe(count);
    expect(model.isDisposed).toBe(true);
  });

  it('stops polling when its last watcher leaves', async () => {
    const { model, loaded, loads } = room([[1], [2], [3]]);
    const watching = model.watch(visible);
    await loaded(2);
    watching.dispose();
    const count = loads();
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(loads()).toBe(count);
    model.dispose();
  });
});
