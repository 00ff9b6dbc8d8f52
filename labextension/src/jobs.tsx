import { Dialog, showDialog } from '@jupyterlab/apputils';
import {
  addIcon,
  clearIcon,
  deleteIcon,
  LabIcon,
  refreshIcon,
  stopIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { Answer, Body, requestAPI } from './api';
import {
  formatBytes,
  formatCommand,
  formatDuration,
  formatPercent,
  formatProgress,
  isActive,
  mainMetric,
  sparklinePath
} from './format';
import {
  askedResources,
  describeFinished,
  describeRayJob,
  describeState,
  finishedJobs,
  IBackendName,
  IEnvironment,
  IJob,
  IProgress,
  IResources,
  RESOURCE_FIELDS
} from './models';
import { IBackends, JobMetrics, JobsModel } from './jobsmodel';
import { RoomModel } from './room';
import { describeError, notifyError, useRoom, VisibleContext } from './polling';
import { Section } from './section';

export interface IJobsProps {
  model: JobsModel;
  openLog: (job: IJob) => void;
  environments: IEnvironment[];
}

/** Ask, then kill: a kill cannot be undone. */
export async function confirmKill(what: string): Promise<boolean> {
  const result = await showDialog({
    title: 'Kill?',
    body: `Kill ${what}? It gets SIGTERM, then SIGKILL after its grace period.`,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Kill' })]
  });
  return result.button.accept;
}

/** Ask first; if the answer is yes, call the server (an error becomes a notification). */
async function confirmThenRequest(
  ask: () => Promise<boolean>,
  path: string,
  method: string,
  context: string
): Promise<void> {
  if (!(await ask())) {
    return;
  }
  try {
    await requestAPI(path, { method });
  } catch (reason) {
    notifyError(context, reason);
  }
}

export function killAllJobs(): Promise<void> {
  return confirmThenRequest(
    () => confirmKill('all your running and queued jobs'),
    'jobs/kill-all',
    'POST',
    'Kill all jobs'
  );
}

/** Ask, then remove: the record and the log of a job are deleted for good. */
export async function confirmRemove(what: string): Promise<boolean> {
  const result = await showDialog({
    title: 'Remove?',
    body: `Remove ${what}? Logs are deleted too; this cannot be undone.`,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Remove' })]
  });
  return result.button.accept;
}

export function clearFinishedJobs(finished: IJob[]): Promise<void> {
  return confirmThenRequest(
    () => confirmRemove(describeFinished(finished)),
    'jobs/clear-finished',
    'POST',
    'Clear finished jobs'
  );
}

export function JobsSection(props: IJobsProps): JSX.Element {
  const { data, error, refresh } = useRoom('Jobs', props.model);
  const [formOpen, setFormOpen] = React.useState(false);
  const jobs = data ?? [];
  const running = jobs.filter(j => isActive(j.state)).length;
  const finished = finishedJobs(jobs);

  const kill = async (job: IJob) => {
    await confirmThenRequest(
      () => confirmKill(`job "${job.name}"`),
      `jobs/${job.id}/kill`,
      'POST',
      `Kill ${job.name}`
    );
    refresh();
  };
  const remove = async (job: IJob) => {
    await confirmThenRequest(
      () => confirmRemove(`job "${job.name}"`),
      `jobs/${job.id}`,
      'DELETE',
      `Remove ${job.name}`
    );
    refresh();
  };

  return (
    <Section
      id="jobs"
      title="Jobs"
      count={running}
      polled={{ data, error }}
      empty="No jobs yet: start one from a notebook or the + button."
      actions={[
        { label: 'Start a job', icon: addIcon, onClick: () => setFormOpen(!formOpen) },
        { label: 'Refresh jobs', icon: refreshIcon, onClick: refresh },
        {
          label: 'Kill all my jobs',
          icon: stopIcon,
          disabled: running === 0,
          onClick: () => void killAllJobs().then(refresh)
        },
        {
          label: 'Clear finished jobs',
          icon: clearIcon,
          disabled: finished.length === 0,
          onClick: () => void clearFinishedJobs(finished).then(refresh)
        }
      ]}
    >
      {formOpen && (
        <StartJobForm
          environments={props.environments}
          backends={props.model.backends}
          onDone={started => {
            setFormOpen(false);
            refresh();
            if (started) {
              props.openLog(started);
            }
          }}
        />
      )}
      {jobs.map(job => (
        <JobItem
          key={job.id}
          job={job}
          jobs={props.model}
          onOpen={() => props.openLog(job)}
          onKill={() => void kill(job)}
          onRemove={() => void remove(job)}
        />
      ))}
    </Section>
  );
}

function JobItem(props: {
  job: IJob;
  jobs: JobsModel;
  onOpen: () => void;
  onKill: () => void;
  onRemove: () => void;
}): JSX.Element {
  const { job } = props;
  const active = isActive(job.state);
  return (
    <li className="jp-MLApp-item jp-MLApp-job" data-job-id={job.id} data-state={job.state}>
      <div
        className="jp-MLApp-itemMain"
        onClick={props.onOpen}
        title={`Open the log of ${job.name}`}
      >
        <span className={`jp-MLApp-state jp-MLApp-state-${job.state}`} aria-label={job.state} />
        <span className="jp-MLApp-itemName">{job.name}</span>
        <span className="jp-MLApp-itemMeta jp-MLApp-jobState">{describeState(job)}</span>
        {active ? (
          <ItemButton
            className="jp-MLApp-kill"
            label={`Kill ${job.name}`}
            icon={stopIcon}
            onClick={props.onKill}
          />
        ) : (
          <ItemButton
            className="jp-MLApp-remove"
            label={`Remove ${job.name}`}
            title={`Remove ${job.name} and its log`}
            icon={deleteIcon}
            onClick={props.onRemove}
          />
        )}
      </div>
      <div className="jp-MLApp-itemDetail" title={formatCommand(job.command)}>
        <span className="jp-MLApp-runtime">{formatDuration(job.runtime)}</span>
        {active && <span>CPU {formatPercent(job.cpu_percent)}</span>}
        {active && <span>{formatBytes(job.memory)}</span>}
        {job.environment && <span className="jp-MLApp-env">{job.environment}</span>}
        {job.backend === 'ray' && <span className="jp-MLApp-backend">{describeRayJob(job)}</span>}
      </div>
      <MetricSparkline job={job} jobs={props.jobs} />
    </li>
  );
}

/** An icon button on a job's line: it acts on the job without opening its log. */
function ItemButton(props: {
  className: string;
  label: string;
  title?: string;
  icon: LabIcon;
  onClick: () => void;
}): JSX.Element {
  return (
    <button
      className={`jp-MLApp-iconButton ${props.className}`}
      title={props.title ?? props.label}
      aria-label={props.label}
      onClick={event => {
        event.stopPropagation();
        props.onClick();
      }}
    >
      <props.icon.react tag="span" />
    </button>
  );
}

/**
 * A mini chart of the job's main metric (loss when there is one), read by the jobs model at its
 * ticks; nothing is shown for a job that logs no metrics.
 */
function MetricSparkline(props: { job: IJob; jobs: JobsModel }): JSX.Element | null {
  const { job, jobs } = props;
  const [metrics, setMetrics] = React.useState<JobMetrics | null>(null);
  const [, setVersion] = React.useState(0);
  const { visible } = React.useContext(VisibleContext);

  React.useEffect(() => {
    const feed = new JobMetrics(job.id);
    const onChange = () => setVersion(version => version + 1);
    feed.changed.connect(onChange);
    setMetrics(feed);
    const following = jobs.follow(feed, { visible });
    return () => {
      following.dispose();
      feed.changed.disconnect(onChange);
    };
  }, [job.id, jobs]);

  if (!metrics) {
    return null;
  }
  if (metrics.error) {
    // The log tab says more; the row says why it has no chart.
    return <div className="jp-MLApp-hint">{describeError('Metrics', metrics.error)}</div>;
  }
  const { progress, values } = metrics;
  const bar = progress && <JobProgress job={job} progress={progress} />;
  const name = mainMetric(Object.keys(values));
  if (!name) {
    return bar;
  }
  const path = sparklinePath(values[name], 120, 20);
  if (!path) {
    return bar;
  }
  const last = [...values[name]].reverse().find(v => v !== null && isFinite(v));
  return (
    <>
      {bar}
      <div className="jp-MLApp-sparkline" title={`${name} per step`}>
        <svg width="120" height="20" viewBox="0 0 120 20" role="img" aria-label={`${name} chart`}>
          <path d={path} />
        </svg>
        <span className="jp-MLApp-metricValue">
          {name} {last !== undefined ? Number(last).toPrecision(4) : ''}
        </span>
      </div>
    </>
  );
}

/** How far a running job is, as its log tells (Epoch 3/10, a tqdm bar), and the time left. */
function JobProgress(props: { job: IJob; progress: IProgress }): JSX.Element {
  const percent = Math.round(props.progress.fraction * 100);
  return (
    <div
      className="jp-MLApp-progress"
      role="progressbar"
      aria-label={`Progress of ${props.job.name}`}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
      title={props.progress.label}
    >
      <span className="jp-MLApp-progressTrack">
        <span className="jp-MLApp-progressFill" style={{ width: `${percent}%` }} />
      </span>
      <span className="jp-MLApp-progressText">{formatProgress(props.progress)}</span>
    </div>
  );
}

function StartJobForm(props: {
  environments: IEnvironment[];
  backends: RoomModel<IBackends>;
  onDone: (job: IJob | null) => void;
}): JSX.Element {
  const [command, setCommand] = React.useState('');
  const [name, setName] = React.useState('');
  const [environment, setEnvironment] = React.useState('');
  const [cwd, setCwd] = React.useState('');
  const { data: where } = useRoom('Job backends', props.backends);
  const [backend, setBackend] = React.useState<IBackendName | null>(null); // null: the server's default
  const [resources, setResources] = React.useState<{ [key in keyof IResources]?: string }>({});
  const [error, setError] = React.useState<string | null>(null);
  const [busy, setBusy] = React.useState(false);
  // A choice only when the server has a cluster: it lists Ray then, answering or not.
  const ray = where?.backends.find(b => b.name === 'ray');
  const chosen = backend ?? where?.default ?? 'local';

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body: Body<'/jobs'> = { command };
    if (name.trim()) {
      body.name = name.trim();
    }
    if (environment) {
      body.environment = environment;
    }
    if (cwd) {
      body.cwd = cwd;
    }
    if (ray) {
      body.backend = chosen;
      const asked = chosen === 'ray' ? askedResources(resources) : null;
      if (asked) {
        body.resources = asked;
      }
    }
    try {
      const job = await requestAPI<Answer<'/jobs', 'post'>>('jobs', {
        method: 'POST',
        body: JSON.stringify(body)
      });
      props.onDone(job);
    } catch (reason) {
      setError((reason as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <li className="jp-MLApp-form">
      <form onSubmit={submit} aria-label="Start a job">
        <TextField
          label="Command"
          name="command"
          placeholder="python train.py --epochs 10"
          value={command}
          onChange={setCommand}
          required
          autoFocus
        />
        <TextField
          label="Name"
          name="name"
          placeholder="(optional: the job's title in lists and tabs)"
          value={name}
          onChange={setName}
        />
        <label>
          Environment
          <select
            className="jp-mod-styled"
            name="environment"
            value={environment}
            onChange={e => setEnvironment(e.target.value)}
          >
            <option value="">The server's own</option>
            {props.environments.map(env => (
              <option key={env.path} value={env.path}>
                {env.name} ({env.kind}
                {env.python_version ? `, Python ${env.python_version}` : ''})
              </option>
            ))}
          </select>
        </label>
        {ray && (
          <label>
            Run on
            <select
              className="jp-mod-styled"
              name="backend"
              value={chosen}
              onChange={e => setBackend(e.target.value as IBackendName)}
            >
              <option value="local">This machine</option>
              <option value="ray">
                Ray cluster{ray.address ? ` (${ray.address})` : ''}
                {ray.available ? '' : ': not answering'}
              </option>
            </select>
            {!ray.available && ray.message && (
              <span className="jp-MLApp-hint" role="status">
                {ray.message}
              </span>
            )}
          </label>
        )}
        {ray &&
          chosen === 'ray' &&
          RESOURCE_FIELDS.map(({ key, label }) => (
            <TextField
              key={key}
              label={label}
              name={key}
              type="number"
              placeholder="(not asked)"
              value={resources[key] ?? ''}
              onChange={value => setResources({ ...resources, [key]: value })}
            />
          ))}
        <TextField
          label="Working folder"
          name="cwd"
          placeholder="(the workspace)"
          value={cwd}
          onChange={setCwd}
        />
        {error && (
          <div className="jp-MLApp-error" role="alert">
            {error}
          </div>
        )}
        <div className="jp-MLApp-formButtons">
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-reject"
            onClick={() => props.onDone(null)}
          >
            Cancel
          </button>
          <button
            type="submit"
            className="jp-Button jp-mod-styled jp-mod-accept"
            disabled={busy || !command.trim()}
          >
            {busy ? 'Starting…' : 'Start'}
          </button>
        </div>
      </form>
    </li>
  );
}

/** A labelled text field of the start form (or a number at least 0). */
function TextField(props: {
  label: string;
  name: string;
  type?: 'number';
  placeholder: string;
  value: string;
  onChange: (value: string) => void;
  required?: boolean;
  autoFocus?: boolean;
}): JSX.Element {
  return (
    <label>
      {props.label}
      <input
        className="jp-mod-styled"
        name={props.name}
        type={props.type}
        {...(props.type === 'number' && { min: 0, step: 'any' })}
        placeholder={props.placeholder}
        value={props.value}
        onChange={e => props.onChange(e.target.value)}
        required={props.required}
        autoFocus={props.autoFocus}
      />
    </label>
  );
}
