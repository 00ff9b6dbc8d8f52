/**
 * The shapes the jupyter-mlapp REST API answers with (what the panel reads of them).
 */
import type { Answer, Schema } from './api';
import { formatBytes, isActive } from './format';

export type IJob = Schema<'Job'>;

export type ILogChunk = Answer<'/jobs/{job_id}/log'>;

export type IMetrics = Answer<'/jobs/{job_id}/metrics'>;

export type IProgress = NonNullable<IMetrics['progress']>;

export type IEnvironment = Schema<'Environment'>;

export type IAppSummary = Schema<'AppState'>;

export type ISnapshot = Schema<'Snapshot'>;

export type ICacheListing = Answer<'/sessions/cache'>;

export type ICacheEntry = Schema<'CacheEntry'>;

/** `train (v2)`: the cached function's short name, or `get_or_compute` for direct calls. */
export function describeCacheOwner(entry: ICacheEntry): string {
  const name = entry.namespace ? entry.namespace.split('.').pop() : 'get_or_compute';
  return entry.version ? `${name} (v${entry.version})` : `${name}`;
}

/** A job's state as a short phrase for people, with its exit code or signal when it ended. */
export function describeState(job: IJob): string {
  switch (job.state) {
    case 'succeeded':
      return 'succeeded';
    case 'failed':
      return job.exit_code !== null ? `failed (exit ${job.exit_code})` : 'failed';
    case 'killed':
      return job.signal ? `killed (${job.signal})` : 'killed';
    default:
      return job.state;
  }
}

export type IBackendName = Schema<'Backend'>['name'];

/** What a job asks of the Ray cluster, each optional (OpenAPI 3.0 cannot say that none is required). */
export type IResources = Partial<Schema<'Resources'>>;

export const RESOURCE_FIELDS: Array<{ key: keyof IResources; label: string }> = [
  { key: 'cpus', label: 'CPUs' },
  { key: 'gpus', label: 'GPUs' },
  { key: 'memory', label: 'Memory (GB)' }
];

/** `on Ray (1 CPU, 256 MB)`: a Ray job and what it asked for, as the notebook's job table says it. */
export function describeRayJob(job: IJob): string {
  const asked: IResources = job.resources ?? {};
  const parts = [
    asked.cpus !== undefined ? `${asked.cpus} CPU` : '',
    asked.gpus !== undefined ? `${asked.gpus} GPU` : '',
    asked.memory ? formatBytes(asked.memory) : ''
  ].filter(part => part);
  return parts.length ? `on Ray (${parts.join(', ')})` : 'on Ray';
}

/**
 * The form's resource fields as the notebook's form sends them: a field left empty or at 0 is not
 * asked; memory is typed in GB and sent in bytes. Null when nothing is asked.
 */
export function askedResources(fields: {
  [key in keyof IResources]?: string;
}): Schema<'Resources'> | null {
  const asked: IResources = {};
  for (const { key } of RESOURCE_FIELDS) {
    const value = Number(fields[key] || 0);
    if (value) {
      asked[key] = key === 'memory' ? Math.trunc(value * 2 ** 30) : value;
    }
  }
  return Object.keys(asked).length ? (asked as Schema<'Resources'>) : null;
}

/** Jobs that have ended (succeeded, failed, killed, lost): the ones that can be removed. */
export function finishedJobs(jobs: IJob[]): IJob[] {
  return jobs.filter(job => !isActive(job.state));
}

/** `1 finished job`, `3 finished jobs`, `3 finished jobs of 2 users` (an admin sees everyone's). */
export function describeFinished(finished: IJob[]): string {
  const users = new Set(finished.map(job => job.user)).size;
  const jobs = `${finished.length} finished ${finished.length === 1 ? 'job' : 'jobs'}`;
  return users > 1 ? `${jobs} of ${users} users` : jobs;
}

/** Newest first, running and queued jobs above the finished ones. */
export function sortJobs(jobs: IJob[]): IJob[] {
  const rank = (job: IJob) => (job.state === 'running' ? 0 : job.state === 'queued' ? 1 : 2);
  return [...jobs].sort((a, b) => rank(a) - rank(b) || b.created_at - a.created_at);
}

export type IModel = Schema<'Model'>;

/** `3 classes: setosa, versicolor, virginica` (at most `max` named). */
export function describeClasses(classes: string[], max = 4): string {
  if (classes.length === 0) {
    return 'no classes';
  }
  const named = classes.slice(0, max).join(', ');
  const more = classes.length > max ? `, +${classes.length - max}` : '';
  return `${classes.length} ${classes.length === 1 ? 'class' : 'classes'}: ${named}${more}`;
}
