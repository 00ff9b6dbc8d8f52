/**
 * The shapes the jupyter-mlapp REST API answers with (what the panel reads of them).
 */
import type { Answer } from './api';
import { isActive } from './format';

export type IJob = Answer<'/jobs/{job_id}'>;

export type ILogChunk = Answer<'/jobs/{job_id}/log'>;

export type IMetrics = Answer<'/jobs/{job_id}/metrics'>;

export type IProgress = NonNullable<IMetrics['progress']>;

/** The document lists environments as bare objects: here is what /envs writes of each. */
export interface IEnvironment {
  name: string;
  path: string;
  kind: string;
  python_version: string | null;
  has_ipykernel: boolean;
  kernel_name: string | null;
  hint: string | null;
  error: string | null;
}

export type IAppSummary = Answer<'/sessions/apps'>['apps'][number];

export type ISnapshot = Answer<'/sessions/apps/{app}/snapshots'>['snapshots'][number];

export type ICacheListing = Answer<'/sessions/cache'>;

export type ICacheEntry = ICacheListing['entries'][number];

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
  return [...jobs].sort((a, b) => rank(a) - rank(b) || (b.created_at ?? 0) - (a.created_at ?? 0));
}

/** The document gives /models/models no properties yet: here is what it writes of each model. */
export interface IModelVersion {
  model_path: string;
  format: string;
  size: number;
  available: boolean;
  reason: string | null;
}

export interface IModel {
  name: string;
  task: string;
  classes: string[];
  weights: string[];
  default_weights: string;
  saved_by: string;
  saved_at: number;
  size: number;
  available: boolean;
  versions: IModelVersion[];
}

/** `3 classes: setosa, versicolor, virginica` (at most `max` named). */
export function describeClasses(classes: string[], max = 4): string {
  if (classes.length === 0) {
    return 'no classes';
  }
  const named = classes.slice(0, max).join(', ');
  const more = classes.length > max ? `, +${classes.length - max}` : '';
  return `${classes.length} ${classes.length === 1 ? 'class' : 'classes'}: ${named}${more}`;
}
