import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Signal } from '@lumino/signaling';
import * as React from 'react';

import { requestAPI } from './api';
import { AppKernelsSection } from './appkernels';
import { AppsSection } from './apps';
import { CacheSection } from './cache';
import { EnvironmentsSection } from './envs';
import { mlappIcon } from './icons';
import { JobsSection } from './jobs';
import { IEnvironment, IJob } from './models';
import { ModelsSection } from './modelsection';
import { notifyError, useRoom, VisibleContext } from './polling';
import { MLAppModels } from './rooms';
import { SessionsSection } from './sessions';
import { StatusSection } from './status';

export interface IPanelActions {
  openLog: (job: IJob) => void;
  createNotebook: (env: IEnvironment) => void;
}

function MLAppPanelView(props: IPanelActions & { models: MLAppModels }): JSX.Element {
  const { models } = props;
  const { data: status, error } = useRoom('ML App server', models.status);
  const environments = useRoom('Environments', models.environments);
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
      {status && status.rooms.includes('apps') && <AppsSection model={models.apps} />}
      <JobsSection
        model={models.jobs}
        openLog={props.openLog}
        environments={environments.data ?? []}
      />
      <EnvironmentsSection
        environments={environments}
        createNotebook={props.createNotebook}
        refresh={refreshEnvironments}
      />
      <SessionsSection model={models.sessions} />
      <CacheSection model={models.cache} />
      <ModelsSection model={models.models} />
      {status && status.user.role === 'admin' && status.rooms.includes('appkernels') && (
        <AppKernelsSection model={models.appKernels} />
      )}
    </div>
  );
}

/**
 * The "ML App" panel of the left sidebar: server status, jobs, environments, sessions, models, app kernels.
 * Its sections show the rooms' models, which poll only while it (or a log tab) is visible.
 */
export class MLAppPanel extends ReactWidget {
  private readonly shown = new Signal<this, void>(this);

  constructor(
    private readonly actions: IPanelActions,
    private readonly models: MLAppModels
  ) {
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
        <MLAppPanelView {...this.actions} models={this.models} />
      </VisibleContext.Provider>
    );
  }
}
