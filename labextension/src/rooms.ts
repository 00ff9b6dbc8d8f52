import { Answer, IStatus, requestAPI } from './api';
import type { IAppKernelListing } from './appkernels';
import { JobsModel } from './jobsmodel';
import { IAppSummary, ICacheListing, ISnapshot } from './models';
import { RoomModel } from './room';

export interface IAppWithSnapshots extends IAppSummary {
  snapshotList: ISnapshot[];
}

async function loadSessions(): Promise<IAppWithSnapshots[]> {
  const { apps } = await requestAPI<Answer<'/sessions/apps'>>('sessions/apps');
  return Promise.all(
    apps.map(async app => {
      const snapshotList = app.snapshots
        ? (
            await requestAPI<Answer<'/sessions/apps/{app}/snapshots'>>(
              `sessions/apps/${encodeURIComponent(app.app)}/snapshots`
            )
          ).snapshots
        : [];
      return { ...app, snapshotList };
    })
  );
}

/**
 * One model per room, shared by the sidebar's sections and the log tabs: each polls once for
 * all its views, and only while one of them is visible.
 */
export class MLAppModels {
  readonly status = new RoomModel({
    name: 'ML App server',
    load: () => requestAPI<IStatus>('status'),
    interval: 60 * 1000
  });
  readonly jobs = new JobsModel();
  // Environment discovery can take seconds (conda): the server caches it; poll rarely.
  readonly environments = new RoomModel({
    name: 'Environments',
    load: () => requestAPI<Answer<'/envs'>>('envs').then(r => r.environments),
    interval: 30 * 1000
  });
  readonly apps = new RoomModel({
    name: 'Apps',
    load: () => requestAPI<Answer<'/apps'>>('apps').then(r => r.apps),
    interval: 10 * 1000
  });
  readonly sessions = new RoomModel({ name: 'Sessions', load: loadSessions, interval: 5000 });
  readonly cache = new RoomModel({
    name: 'Cache',
    load: () => requestAPI<ICacheListing>('sessions/cache'),
    interval: 10 * 1000
  });
  readonly models = new RoomModel({
    name: 'Models',
    load: () => requestAPI<Answer<'/models/models'>>('models/models').then(r => r.models),
    interval: 10 * 1000
  });
  readonly appKernels = new RoomModel({
    name: 'App kernels',
    load: () => requestAPI<IAppKernelListing>('appkernels'),
    interval: 5000
  });
}
