import {
  formatAgo,
  formatBytes,
  formatCommand,
  formatDuration,
  formatPercent,
  isActive,
  mainMetric,
  sparklinePath
} from '../src/format';

describe('formatDuration', () => {
  it('shows seconds, minutes, hours and days', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(42.7)).toBe('42 s');
    expect(formatDuration(185)).toBe('3 min 05 s');
    expect(formatDuration(2 * 3600 + 7 * 60)).toBe('2 h 07 min');
    expect(formatDuration(3 * 86400 + 5 * 3600)).toBe('3 d 5 h');
  });
  it('shows a dash for unknown or impossible values', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(undefined)).toBe('—');
    expect(formatDuration(-1)).toBe('—');
    expect(formatDuration(NaN)).toBe('—');
  });
});

describe('formatBytes', () => {
  it('uses powers of 1024 with a decimal only for small values', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(12 * 1024 * 1024)).toBe('12 MB');
    expect(formatBytes(3.14 * 1024 ** 3)).toBe('3.1 GB');
    expect(formatBytes(null)).toBe('—');
  });
});

describe('formatPercent', () => {
  it('rounds large and keeps a decimal for small percentages', () => {
    expect(formatPercent(37.4)).toBe('37%');
    expect(formatPercent(4.24)).toBe('4.2%');
    expect(formatPercent(null)).toBe('—');
  });
});

describe('formatAgo', () => {
  const now = Date.parse('2026-11-21T12:00:00Z');
  it('is relative for recent times', () => {
    expect(formatAgo('2026-11-21T11:59:50Z', now)).toBe('just now');
    expect(formatAgo('2026-11-21T11:55:00Z', now)).toBe('5 min ago');
    expect(formatAgo(now / 1000 - 3 * 3600, now)).toBe('3 h ago');
  });
  it('shows a dash for missing or unreadable times', () => {
    expect(formatAgo(null, now)).toBe('—');
    expect(formatAgo('not a date', now)).toBe('—');
  });
});

describe('formatCommand', () => {
  it('quotes arguments with spaces', () => {
    expect(formatCommand(['python', 'train.py', '--name', 'my run'])).toBe(
      'python train.py --name "my run"'
    );
    expect(formatCommand('sleep 5')).toBe('sleep 5');
  });
});

describe('job states', () => {
  it('knows which states are still going', () => {
    expect(isActive('running')).toBe(true);
    expect(isActive('queued')).toBe(true);
    expect(isActive('killed')).toBe(false);
    expect(isActive('succeeded')).toBe(false);
  });
});

describe('sparklinePath', () => {
  it('scales the values into the box, lowest at the bottom', () => {
    expect(sparklinePath([1, 3, 2], 100, 10)).toBe('M0.0,10.0 L50.0,0.0 L100.0,5.0');
  });
  it('skips non-finite values and needs two points', () => {
    expect(sparklinePath([null, 5, NaN], 100, 10)).toBe('');
    expect(sparklinePath([null, 1, 1], 10, 10)).toBe('M0.0,10.0 L10.0,10.0');
  });
});

describe('mainMetric', () => {
  it('prefers loss, then a training loss, then the first metric', () => {
    expect(mainMetric(['accuracy', 'loss', 'val_loss'])).toBe('loss');
    expect(mainMetric(['val_loss', 'train_loss'])).toBe('train_loss');
    expect(mainMetric(['accuracy'])).toBe('accuracy');
    expect(mainMetric([])).toBeNull();
  });
});

import { describeState, IJob, sortJobs } from '../src/models';

function job(partial: Partial<IJob>): IJob {
  return {
    id: 'a',
    name: 'job',
    user: 'me',
    command: ['true'],
    argv: ['true'],
    cwd: '/',
    env_keys: [],
    environment: null,
    environment_path: null,
    state: 'succeeded',
    created_at: 0,
    started_at: null,
    ended_at: null,
    pid: null,
    exit_code: 0,
    signal: null,
    reason: null,
    runtime: null,
    cpu_percent: null,
    memory: null,
    log_path: '/tmp/a.log',
    grace: 10,
    backend: null,
    resources: null,
    supervisor_pid: null,
    kill_requested_at: null,
    role: null,
    template: null,
    ...partial
  };
}

describe('describeState', () => {
  it('adds the exit code or the signal to ended jobs', () => {
    expect(describeState(job({ state: 'failed', exit_code: 3 }))).toBe('failed (exit 3)');
    expect(describeState(job({ state: 'killed', signal: 'SIGTERM' }))).toBe('killed (SIGTERM)');
    expect(describeState(job({ state: 'running' }))).toBe('running');
  });
});

describe('sortJobs', () => {
  it('puts running, then queued, then finished jobs, newest first within each', () => {
    const jobs = [
      job({ id: 'old-done', created_at: 1 }),
      job({ id: 'queued', state: 'queued', created_at: 2 }),
      job({ id: 'new-done', created_at: 5 }),
      job({ id: 'running', state: 'running', created_at: 3 })
    ];
    expect(sortJobs(jobs).map(j => j.id)).toEqual(['running', 'queued', 'new-done', 'old-done']);
  });
});

import { describeClasses } from '../src/models';

describe('describeClasses', () => {
  it('names the first few classes and counts the rest', () => {
    expect(describeClasses(['cat'])).toBe('1 class: cat');
    expect(describeClasses(['a', 'b', 'c', 'd', 'e', 'f'])).toBe('6 classes: a, b, c, d, +2');
    expect(describeClasses([])).toBe('no classes');
  });
});

import { describeFinished, finishedJobs } from '../src/models';

describe('finished jobs', () => {
  const job = (id: string, state: string, user = 'ada') => ({ id, state, user }) as IJob;
  it('are the ended ones, whatever the way they ended', () => {
    const jobs = ['queued', 'running', 'succeeded', 'failed', 'killed', 'lost'].map(s => job(s, s));
    expect(finishedJobs(jobs).map(j => j.id)).toEqual(['succeeded', 'failed', 'killed', 'lost']);
  });
  it('are counted for the confirmation, with their users when several', () => {
    expect(describeFinished([job('a', 'failed')])).toBe('1 finished job');
    expect(describeFinished([job('a', 'failed'), job('b', 'killed')])).toBe('2 finished jobs');
    expect(
      describeFinished([job('a', 'failed'), job('b', 'killed', 'bob'), job('c', 'lost')])
    ).toBe('3 finished jobs of 2 users');
  });
});

import { describeCacheOwner, ICacheEntry } from '../src/models';

describe('describeCacheOwner', () => {
  const entry = { namespace: 'app.data.prepare', version: '' } as ICacheEntry;
  it('names the cached function, with its version when it has one', () => {
    expect(describeCacheOwner(entry)).toBe('prepare');
    expect(describeCacheOwner({ ...entry, version: '2' })).toBe('prepare (v2)');
    expect(describeCacheOwner({ ...entry, namespace: '' })).toBe('get_or_compute');
  });
});

import { formatProgress } from '../src/format';

describe('formatProgress', () => {
  it('says how far, and the time left when known', () => {
    expect(formatProgress({ fraction: 0.25, eta: null })).toBe('25%');
    expect(formatProgress({ fraction: 0.5, eta: 90 })).toBe('50% · 1 min 30 s left');
  });
});
