import { LabIcon } from '@jupyterlab/ui-components';

const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M4 19h16v2H4zM5 10h3v8H5zm5.5-5h3v13h-3zM16 13h3v5h-3z"/>
  </g>
</svg>`;

export const mlappIcon = new LabIcon({ name: 'jupyter-mlapp:icon', svgstr: svg });
