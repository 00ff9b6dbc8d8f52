import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, ToolbarButton } from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { ServerConnection } from '@jupyterlab/services';
import { launchIcon, shareIcon } from '@jupyterlab/ui-components';
import { DataGrid } from '@lumino/datagrid';
import { IDisposable } from '@lumino/disposable';
import { Widget } from '@lumino/widgets';

import { publishDialog } from './apps';
import { blitCellsOnce } from './datagrid';
import { killAllJobs } from './jobs';
import { openJobLog } from './logview';
import { MLAppPanel } from './panel';
import { MLAppModels } from './rooms';

// As this module loads, before any grid paints: in JupyterLab and in Voila's app pages alike.
blitCellsOnce(DataGrid.prototype);

const PANEL_ID = 'jupyter-mlapp-panel';

namespace CommandIDs {
  export const showPanel = 'mlapp:show-panel';
  export const openAsApp = 'mlapp:open-as-app';
  export const publishAsApp = 'mlapp:publish-as-app';
  export const killAll = 'mlapp:kill-all-jobs';
}

/** The notebook path of a document widget, if it shows a notebook. */
function notebookPath(widget: Widget | null): string | null {
  const context = (widget as unknown as { context?: { path?: string } } | null)?.context;
  const path = context?.path;
  return path && path.endsWith('.ipynb') ? path : null;
}

/** The URL at which Voila renders a notebook of the server's root as an app. */
export function voilaURL(path: string): string {
  const { baseUrl } = ServerConnection.makeSettings();
  return URLExt.join(baseUrl, 'voila/render', URLExt.encodeParts(path));
}

/** An "Open as app" button on every notebook's toolbar. */
class OpenAsAppButton implements DocumentRegistry.WidgetExtension {
  constructor(private readonly app: JupyterFrontEnd) {}

  createNew(panel: Widget): IDisposable {
    const button = new ToolbarButton({
      icon: launchIcon,
      label: 'App',
      tooltip: 'Open as app: render this notebook with Voila in a new tab',
      onClick: () => void this.app.commands.execute(CommandIDs.openAsApp)
    });
    (
      panel as unknown as { toolbar: { insertItem: (i: number, n: string, w: Widget) => void } }
    ).toolbar.insertItem(10, 'mlappOpenAsApp', button);
    const publish = new ToolbarButton({
      icon: shareIcon,
      label: 'Publish',
      tooltip:
        'Publish as app: choose who may open this notebook as an app, and list it in the gallery',
      onClick: () => void this.app.commands.execute(CommandIDs.publishAsApp)
    });
    (
      panel as unknown as { toolbar: { insertItem: (i: number, n: string, w: Widget) => void } }
    ).toolbar.insertItem(11, 'mlappPublishAsApp', publish);
    button.disposed.connect(() => publish.dispose());
    return button;
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlapp:plugin',
  description: 'The ML App sidebar: jobs, environments, sessions and models.',
  autoStart: true,
  // Optional, not required: Voila loads every lab extension for its widgets but has no lab shell,
  // and a required token it cannot provide would be an error in every app's console.
  optional: [ILabShell, ILayoutRestorer, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    shell: ILabShell | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null
  ) => {
    if (!shell) {
      return;
    }
    const models = new MLAppModels();
    const panel = new MLAppPanel(
      {
        openLog: job => openJobLog(job, models.jobs, shell),
        createNotebook: env =>
          void app.commands.execute('notebook:create-new', {
            kernelName: env.kernel_name ?? undefined
          })
      },
      models
    );
    shell.add(panel, 'left', { rank: 250 });
    if (restorer) {
      restorer.add(panel, PANEL_ID);
    }

    app.commands.addCommand(CommandIDs.showPanel, {
      label: 'Show ML App panel',
      execute: () => shell.activateById(PANEL_ID)
    });
    app.commands.addCommand(CommandIDs.openAsApp, {
      label: 'Open as app',
      caption: 'Render the current notebook with Voila in a new browser tab',
      icon: launchIcon,
      isEnabled: () => notebookPath(shell.currentWidget) !== null,
      execute: () => {
        const path = notebookPath(shell.currentWidget);
        if (path) {
          window.open(voilaURL(path), '_blank', 'noopener');
        }
      }
    });
    app.commands.addCommand(CommandIDs.publishAsApp, {
      label: 'Publish as app',
      caption: 'Publish the current notebook as an app: title, description, who may open it',
      icon: shareIcon,
      isEnabled: () => notebookPath(shell.currentWidget) !== null,
      execute: () => {
        const path = notebookPath(shell.currentWidget);
        if (path) {
          return publishDialog(path);
        }
      }
    });
    app.commands.addCommand(CommandIDs.killAll, {
      label: 'Kill all my jobs',
      execute: () => killAllJobs()
    });
    if (palette) {
      for (const command of [
        CommandIDs.showPanel,
        CommandIDs.openAsApp,
        CommandIDs.publishAsApp,
        CommandIDs.killAll
      ]) {
        palette.addItem({ command, category: 'ML App' });
      }
    }
    app.docRegistry.addWidgetExtension('Notebook', new OpenAsAppButton(app));
  }
};

export default plugin;
