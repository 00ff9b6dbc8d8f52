import { MainAreaWidget } from '@jupyterlab/apputils';
import { Poll } from '@lumino/polling';
import { Widget } from '@lumino/widgets';

import { requestAPI } from './api';
import { formatDuration } from './format';
import { describeState, IJob, ILogChunk } from './models';
import { notifyError } from './polling';

const CHUNK = 256 * 1024;
const MAX_SHOWN = 2 * 1024 * 1024; // characters kept on screen: the head of a huge log is dropped

/**
 * A job's log in a main-area tab, following the tail live (about once a second while the tab
 * is visible), stopping once the job has ended and the whole log is shown.
 */
export class JobLogView extends Widget {
  readonly jobId: string;
  private offset = 0;
  private finished = false;
  private readonly header: HTMLElement;
  private readonly pre: HTMLPreElement;
  private readonly poll: Poll;

  constructor(job: IJob) {
    super();
    this.jobId = job.id;
    this.addClass('jp-MLApp-log');
    this.header = document.createElement('div');
    this.header.className = 'jp-MLApp-logHeader';
    this.pre = document.createElement('pre');
    this.pre.className = 'jp-MLApp-logText';
    this.node.append(this.header, this.pre);
    this.showJob(job);
    this.poll = new Poll({
      factory: () => this.update_(),
      frequency: { interval: 1000, backoff: true, max: 15000 },
      standby: () => !this.isVisible || document.hidden,
      name: `mlapp:log:${job.id}`
    });
    void this.poll.start();
  }

  dispose(): void {
    this.poll.dispose();
    super.dispose();
  }

  private showJob(job: IJob): void {
    this.header.textContent = `${job.name} · ${describeState(job)} · ${formatDuration(job.runtime)}`;
    this.header.dataset.state = job.state;
  }

  private async update_(): Promise<void> {
    if (this.finished) {
      return;
    }
    try {
      const job = await requestAPI<IJob>(`jobs/${this.jobId}`);
      this.showJob(job);
      let chunk: ILogChunk;
      do {
        chunk = await requestAPI<ILogChunk>(
          `jobs/${this.jobId}/log?offset=${this.offset}&limit=${CHUNK}`
        );
        if (chunk.offset < this.offset) {
          this.pre.textContent = ''; // the log was truncated or replaced: show it anew
        }
        this.append(chunk.text);
        this.offset = chunk.next_offset;
      } while (chunk.next_offset < chunk.size);
      if (!['queued', 'running'].includes(job.state)) {
        this.finished = true;
        void this.poll.stop();
      }
    } catch (reason) {
      notifyError(`Log of job ${this.jobId}`, reason);
      throw reason;
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
  shell: { add: (w: Widget, area: 'main') => void; activateById: (id: string) => void }
): void {
  const id = `jupyter-mlapp-log-${job.id}`;
  const existing = document.getElementById(id);
  if (existing) {
    shell.activateById(id);
    return;
  }
  const content = new JobLogView(job);
  const widget = new MainAreaWidget({ content });
  widget.id = id;
  widget.title.label = `Log: ${job.name}`;
  widget.title.caption = `Log of job ${job.id}`;
  widget.title.closable = true;
  shell.add(widget, 'main');
  shell.activateById(id);
}
