import { MainAreaWidget } from '@jupyterlab/apputils';
import { DisposableSet } from '@lumino/disposable';
import { Widget } from '@lumino/widgets';

import { formatDuration } from './format';
import { JobLog, JobsModel } from './jobsmodel';
import { describeState, IJob } from './models';
import { notifyError } from './polling';

const MAX_SHOWN = 2 * 1024 * 1024; // characters kept on screen: the head of a huge log is dropped

/**
 * A job's log in a main-area tab, following the tail live (the jobs model reads it at each tick
 * while the tab is visible), stopping once the job has ended and the whole log is shown.
 */
export class JobLogView extends Widget {
  readonly jobId: string;
  private readonly header: HTMLElement;
  private readonly pre: HTMLPreElement;
  private readonly log: JobLog;
  private readonly following: DisposableSet;

  constructor(
    job: IJob,
    private readonly jobs: JobsModel
  ) {
    super();
    this.jobId = job.id;
    this.addClass('jp-MLApp-log');
    this.header = document.createElement('div');
    this.header.className = 'jp-MLApp-logHeader';
    this.pre = document.createElement('pre');
    this.pre.className = 'jp-MLApp-logText';
    this.node.append(this.header, this.pre);
    this.showJob(job);
    this.log = new JobLog(job.id);
    this.log.changed.connect(this.onLog, this);
    jobs.changed.connect(this.onJobs, this);
    const watcher = { visible: () => this.isVisible };
    this.following = DisposableSet.from([jobs.watch(watcher), jobs.follow(this.log, watcher)]);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.following.dispose();
    this.jobs.changed.disconnect(this.onJobs, this);
    this.log.changed.disconnect(this.onLog, this);
    super.dispose();
  }

  private showJob(job: IJob): void {
    this.header.textContent = `${job.name} · ${describeState(job)} · ${formatDuration(job.runtime)}`;
    this.header.dataset.state = job.state;
  }

  private onJobs(): void {
    const job = this.jobs.job(this.jobId);
    if (job) {
      this.showJob(job);
    }
  }

  private onLog(log: JobLog): void {
    if (log.error) {
      notifyError(`Log of job ${this.jobId}`, log.error);
      return;
    }
    if (log.reset) {
      this.pre.textContent = ''; // the log was truncated or replaced: show it anew
    }
    this.append(log.text);
    if (log.done) {
      this.following.dispose(); // the job has ended and all of its log is shown
    }
  }

  private append(text: string): void {
    if (!text) {
      return;
    }
    const atBottom = this.node.scrollHeight - this.node.scrollTop - this.node.clientHeight < 24;
    this.pre.append(document.createTextNode(text));
    const length = this.pre.textContent?.length ?? 0;
    if (length > MAX_SHOWN) {
      this.pre.textContent =
        '… (older lines not shown)\n' + this.pre.textContent!.slice(length - MAX_SHOWN);
    }
    if (atBottom) {
      this.node.scrollTop = this.node.scrollHeight;
    }
  }
}

/** Open (or bring to the front) the log tab of a job. */
export function openJobLog(
  job: IJob,
  jobs: JobsModel,
  shell: { add: (w: Widget, area: 'main') => void; activateById: (id: string) => void }
): void {
  const id = `jupyter-mlapp-log-${job.id}`;
  const existing = document.getElementById(id);
  if (existing) {
    shell.activateById(id);
    return;
  }
  const content = new JobLogView(job, jobs);
  const widget = new MainAreaWidget({ content });
  widget.id = id;
  widget.title.label = `Log: ${job.name}`;
  widget.title.caption = `Log of job ${job.id}`;
  widget.title.closable = true;
  shell.add(widget, 'main');
  shell.activateById(id);
}
