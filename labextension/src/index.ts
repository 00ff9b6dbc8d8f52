import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';

import { MLAppPanel } from './panel';

const PANEL_ID = 'jupyter-mlapp-panel';

namespace CommandIDs {
  export const showPanel = 'mlapp:show-panel';
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlapp:plugin',
  description: 'The ML App sidebar: jobs, environments, sessions and models.',
  autoStart: true,
  requires: [ILabShell],
  optional: [ILayoutRestorer, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    shell: ILabShell,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null
  ) => {
    const panel = new MLAppPanel();
    shell.add(panel, 'left', { rank: 250 });
    if (restorer) {
      restorer.add(panel, PANEL_ID);
    }
    app.commands.addCommand(CommandIDs.showPanel, {
      label: 'Show ML App panel',
      execute: () => shell.activateById(PANEL_ID)
    });
    if (palette) {
      palette.addItem({ command: CommandIDs.showPanel, category: 'ML App' });
    }
  }
};

export default plugin;
