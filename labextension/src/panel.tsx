import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IStatus, requestAPI } from './api';
import { StatusSection } from './status';
import { mlappIcon } from './icons';

function MLAppPanelView(): JSX.Element {
  const [status, setStatus] = React.useState<IStatus | null>(null);
  const [error, setError] = React.useState<string | null>(null);

  React.useEffect(() => {
    requestAPI<IStatus>('status')
      .then(setStatus)
      .catch(reason => setError(String(reason.message ?? reason)));
  }, []);

  return (
    <div className="jp-MLApp-panel">
      <header className="jp-MLApp-header">
        <mlappIcon.react tag="span" className="jp-MLApp-headerIcon" />
        <h2>ML App</h2>
      </header>
      <StatusSection status={status} error={error} />
    </div>
  );
}

/**
 * The "ML App" panel of the left sidebar.
 */
export class MLAppPanel extends ReactWidget {
  constructor() {
    super();
    this.id = 'jupyter-mlapp-panel';
    this.addClass('jp-MLApp');
    this.title.icon = mlappIcon;
    this.title.caption = 'ML App';
  }

  protected render(): JSX.Element {
    return <MLAppPanelView />;
  }
}
