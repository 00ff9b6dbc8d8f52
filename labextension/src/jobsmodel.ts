import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { Answer, requestAPI } from './api';
import { isActive } from './format';
import { IJob, ILogChunk, IMetrics, IProgress, sortJobs } from './models';
import { IWatcher, RoomModel } from './room';

/**
 * Something read of one job at each tick of the jobs poll (its log, its metrics): it emits
 * `changed` when it read something new, and keeps its own error (one unreadable log does not
 * hold up the list).
 */
export abstract class JobFeed {
  constructor(readonly jobId: string) {}

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Why the last read failed, or null. */
  get error(): Error | null {
    return this._error;
  }

  /** Nothing more to read: the job has ended and all of it was read. */
  get done(): boolean {
    return this._done;
  }

  /** Read what is new; `job` is the job's record of this tick, if the list has it. */
  async update(job: IJob | undefined): Promise<void> {
    if (this._done || this.busy) {
      return; // a read still running would read the same bytes twice
    }
    this.busy = true;
    try {
      const changed = await this.read(job);
      const hadError = this._error !== null;
      this._error = null;
      if (changed || hadError) {
        this._changed.emit();
      }
    } catch (reason) {
      const error = reason instanceof Error ? reason : new Error(String(reason));
      const changed = error.message !== this._error?.message;
      this._error = error;
      if (changed) {
        this._changed.emit();
      }
    } finally {
      this.busy = false;
    }
  }

  /** Read what is new; true if something was. */
  protected abstract read(job: IJob | undefined): Promise<boolean>;

  protected finish(): void {
    this._done = true;
  }

  private busy = false;
  private _done = false;
  private _error: Error | null = null;
  private readonly _changed = new Signal<this, void>(this);
}

const CHUNK = 256 * 1024;

/** A job's log, read forward in bounded chunks; `text` is what the last read appended. */
export class JobLog extends JobFeed {
  /** What the last read appended (after `reset`, the log anew). */
  text = '';
  /** The log was truncated or replaced: what was shown of it is stale. */
  reset = false;

  protected async read(job: IJob | undefined): Promise<boolean> {
    this.text = '';
    this.reset = false;
    let chunk: ILogChunk;
    do {
      chunk = await requestAPI<ILogChunk>(
        `jobs/${this.jobId}/log?offset=${this.offset}&limit=${CHUNK}`
      );
      if (chunk.offset < this.offset) {
        this.text = '';
        this.reset = true;
      }
      this.text += chunk.text;
      this.offset = chunk.next_offset;
    } while (chunk.next_offset < chunk.size);
    if (job && !isActive(job.state)) {
      this.finish();
    }
    // Finishing is news too: the view stops watching the jobs once it knows.
    return this.text.length > 0 || this.reset || this.done;
  }

  private offset = 0;
}

const METRICS_INTERVAL = 2000; // metrics are parsed from the log: every other tick is enough

/**
 * A job's metrics, read incrementally from `/jobs/<id>/metrics?since=`: the last 500 values of
 * each series, and the progress its log tells while it runs.
 */
export class JobMetrics extends JobFeed {
  readonly values: { [name: string]: Array<number | null> } = {};
  progress: IProgress | null = null;

  protected async read(job: IJob | undefined): Promise<boolean> {
    // Read once for a job that has ended, then only while it runs.
    const due = Date.now() - this.readAt >= METRICS_INTERVAL;
    if (this.readAt > 0 && (!due || (job && !isActive(job.state)))) {
      return false;
    }
    this.readAt = Date.now();
    const metrics = await requestAPI<IMetrics>(`jobs/${this.jobId}/metrics?since=${this.next}`);
    if (metrics.reset) {
      for (const name of Object.keys(this.values)) {
        delete this.values[name];
      }
    }
    for (const [name, series] of Object.entries(metrics.series)) {
      // Non-finite values come as the strings NaN, Infinity: the chart skips them.
      const values = series.value.map(v => (typeof v === 'number' ? v : null));
      this.values[name] = [...(this.values[name] ?? []), ...values].slice(-500);
    }
    this.next = metrics.next;
    this.progress = metrics.finished ? null : metrics.progress;
    if (metrics.finished) {
      this.finish();
    }
    return true;
  }

  private next = 0;
  private readAt = 0;
}

/** Where new jobs may run: this machine, and the server's Ray cluster when it has one. */
export type IBackends = Answer<'/jobs/backends'>;

/**
 * The jobs room: the list (every second while the sidebar or a log tab is visible) and, at the
 * same tick, the logs and metrics that views follow.
 */
export class JobsModel extends RoomModel<IJob[]> {
  constructor() {
    super({
      name: 'Jobs',
      load: () => requestAPI<Answer<'/jobs'>>('jobs').then(r => sortJobs(r.jobs)),
      interval: 1000
    });
  }

  /** Where new jobs may run, read while a start form is shown (Ray may come and go). */
  readonly backends = new RoomModel<IBackends>({
    name: 'Job backends',
    load: () => requestAPI<IBackends>('jobs/backends'),
    interval: 5000
  });

  dispose(): void {
    this.backends.dispose();
    super.dispose();
  }

  /** The job's record in the last list. */
  job(id: string): IJob | undefined {
    return this.data?.find(job => job.id === id);
  }

  /**
   * Read `feed` now, then at each tick while `watcher` is visible, until the returned disposable
   * is disposed (a row of a hidden sidebar reads nothing while a log tab keeps the poll going).
   */
  follow(feed: JobFeed, watcher: IWatcher): IDisposable {
    this.feeds.set(feed, watcher);
    void feed.update(this.job(feed.jobId));
    return new DisposableDelegate(() => this.feeds.delete(feed));
  }

  protected async tick(): Promise<void> {
    await super.tick();
    const due = [...this.feeds].filter(([, watcher]) => watcher.visible());
    await Promise.all(due.map(([feed]) => feed.update(this.job(feed.jobId))));
  }

  private readonly feeds = new Map<JobFeed, IWatcher>();
}
