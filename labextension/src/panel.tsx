import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Signal } from '@lumino/signaling';
import * as React from 'react';

import { IStatus, requestAPI } from './api';
import { AppKernelsSection } from './appkernels';
import { AppsSection } from './apps';
import { CacheSection } from './cache';
import { EnvironmentsSection } from './envs';
import { mlappIcon } from './icons';
import { JobsSection } from './jobs';
import { IEnvironment, IJob } from './models';
import { ModelsSection } from './modelsection';
import { notifyError, usePoll, VisibleContext } from './polling';
import { SessionsSection } from './sessions';
import { StatusSection } from './status';

export interface IPanelActions {
  openLog: (job: IJob) => void;
  createNotebook: (env: IEnvironment) => void;
}

function MLAppPanelView(props: IPanelActions): JSX.Element {
  const [status, setStatus] = React.useState<IStatus | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  React.useEffect(() => {
    requestAPI<IStatus>('status')
      .then(setStatus)
      .catch(reason => setError(notifyError('ML App server', reason)));
  }, []);

  // Environment discovery can take seconds (conda): the server caches it; poll rarely.
  const environments = usePoll(
    'Environments',
    () => requestAPI<{ environments: IEnvironment[] }>('envs').then(r => r.environments),
    30000
  );
  const refreshEnvironments = () =>
    void requestAPI('envs?refresh=1').then(
      () => environments.refresh(),
      reason => notifyError('Environments', reason)
    );

  return (
    <div className="jp-MLApp-panel">
      <header className="jp-MLApp-header">
        <mlappIcon.react tag="span" className="jp-MLApp-headerIcon" />
        <h2>ML App</h2>
      </header>
      <StatusSection status={status} error={error} />
      {status && status.rooms?.includes('apps') && <AppsSection />}
      <JobsSection openLog={props.openLog} environments={environments.data ?? []} />
      <EnvironmentsSection
        environments={environments}
        createNotebook={props.createNotebook}
        refresh={refreshEnvironments}
      />
      <SessionsSection />
      <CacheSection />
      <ModelsSection />
      {status && status.user.role === 'admin' && status.rooms?.includes('appkernels') && (
        <AppKernelsSection />
      )}
    </div>
  );
}

/**
 * The "ML App" panel of the left sidebar: server status, jobs, environments, sessions, models, app kernels.
 * Its sections poll only while it is visible.
 */
export class MLAppPanel extends ReactWidget {
  private readonly shown = new Signal<this, void>(this);

  constructor(private readonly actions: IPanelActions) {
    super();
    this.id = 'jupyter-mlapp-panel';
    this.addClass('jp-MLApp');
    this.title.icon = mlappIcon;
    this.title.caption = 'ML App';
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.shown.emit();
  }

  protected render(): JSX.Element {
    return (
      <VisibleContext.Provider value={{ visible: () => this.isVisible, shown: this.shown }}>
        <MLAppPanelView {...this.actions} />
      </VisibleContext.Provider>
    );
  }
}
