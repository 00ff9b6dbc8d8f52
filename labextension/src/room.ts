import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

/**
 * Something showing a model's data (the sidebar, a log tab): the model polls only while one of
 * them can be seen, so a collapsed sidebar and closed tabs cost the server nothing.
 */
export interface IWatcher {
  visible: () => boolean;
}

/**
 * The sidebar's data of one room: one poll (every `interval` ms while a watcher is visible and
 * the browser tab is shown, backing off on errors), `changed` emitted once per change of `data`
 * or `error`. Views subscribe; none of them fetches on its own.
 */
export class RoomModel<T> implements IDisposable {
  constructor(options: RoomModel.IOptions<T>) {
    this.load = options.load;
    this.poll = new Poll({
      factory: () => this.tick(),
      frequency: { interval: options.interval, backoff: true, max: options.max ?? 30 * 1000 },
      // 'when-hidden': stand by while the browser tab is hidden too.
      standby: () => ![...this.watchers].some(watcher => watcher.visible()) || 'when-hidden',
      name: `mlapp:${options.name}`
    });
  }

  /** Emitted once each time `data` or `error` changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The last answer, or null before the first. */
  get data(): T | null {
    return this._data;
  }

  /** Why the last load failed, or null once a load succeeds again. */
  get error(): Error | null {
    return this._error;
  }

  get isDisposed(): boolean {
    return this.poll.isDisposed;
  }

  /** Poll for `watcher` until the returned disposable is disposed (the first watcher starts). */
  watch(watcher: IWatcher): IDisposable {
    this.watchers.add(watcher);
    if (this.watchers.size === 1) {
      void this.poll.start();
    }
    return new DisposableDelegate(() => {
      this.watchers.delete(watcher);
      if (this.watchers.size === 0 && !this.poll.isDisposed) {
        void this.poll.stop();
      }
    });
  }

  /** Load now (after an action, or when the sidebar is shown again). */
  refresh(): Promise<void> {
    return this.poll.refresh();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.poll.dispose();
    Signal.clearData(this);
  }

  protected async tick(): Promise<void> {
    let data: T;
    try {
      data = await this.load();
    } catch (reason) {
      this.update(this._data, reason instanceof Error ? reason : new Error(String(reason)));
      throw reason; // lets the poll back off
    }
    this.update(data, null);
  }

  /** Set `data` and `error`, and emit `changed` if either differs from what it was. */
  protected update(data: T | null, error: Error | null): void {
    const text = JSON.stringify(data);
    if (text === this.text && error?.message === this._error?.message) {
      return;
    }
    this.text = text;
    this._data = data;
    this._error = error;
    if (!this.isDisposed) {
      this._changed.emit();
    }
  }

  private readonly load: () => Promise<T>;
  private readonly poll: Poll;
  private readonly watchers = new Set<IWatcher>();
  private readonly _changed = new Signal<this, void>(this);
  private _data: T | null = null;
  private _error: Error | null = null;
  private text = JSON.stringify(null);
}

export namespace RoomModel {
  export interface IOptions<T> {
    /** For the poll's name and the views' messages: `Jobs`, `Sessions`. */
    name: string;
    load: () => Promise<T>;
    /** Milliseconds between loads. */
    interval: number;
    /** The longest wait after errors (backing off), 30 s unless said. */
    max?: number;
  }
}
