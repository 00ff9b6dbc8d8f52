import * as React from 'react';

import { IStatus } from './api';

/**
 * The server line at the top of the panel: version, user and home folder.
 */
export function StatusSection(props: {
  status: IStatus | null;
  error: string | null;
}): JSX.Element {
  const { status, error } = props;
  if (error) {
    return (
      <div className="jp-MLApp-status jp-MLApp-error" role="alert">
        Cannot reach the ML App server: {error}
      </div>
    );
  }
  if (!status) {
    return <div className="jp-MLApp-status">Connecting to the server…</div>;
  }
  return (
    <div className="jp-MLApp-status">
      <span className="jp-MLApp-version" title="jupyter-mlapp version">
        jupyter-mlapp {status.version}
      </span>
      <span className="jp-MLApp-user" title="signed in as">
        {status.user.name || status.user.username}
      </span>
      <div className="jp-MLApp-home" title="home folder">
        {status.home}
      </div>
    </div>
  );
}
