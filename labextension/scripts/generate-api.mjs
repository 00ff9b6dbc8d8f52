// Write the sidebar's REST types (src/generated/api.ts, not committed) from the committed OpenAPI
// document (openapi.json, written by scripts/openapi.py), so that the types cannot drift from what
// the server documents. Node alone: npm runs it before every build, lint and test, also where
// jupyter_mlapp is not importable (a wheel built from the sdist, a fresh clone).
//
//   node scripts/generate-api.mjs   (npm run generate:api)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import openapiTS, { astToString } from 'openapi-typescript';
import * as prettier from 'prettier';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const output = join(root, 'src', 'generated', 'api.ts');

const document = JSON.parse(readFileSync(join(root, 'openapi.json'), 'utf-8'));
// Properties of a schema without a `required` list are all sent: the server writes every field
// of its records (null when unknown), and the views read them without checking for absence.
const ast = await openapiTS(document, { propertiesRequiredByDefault: true });
const header =
  '// Generated from openapi.json by scripts/generate-api.mjs before every build, lint and test:\n' +
  '// do not edit. The document is written by scripts/openapi.py from the rooms\' OpenAPI.\n\n';
// Formatted with the project's prettier settings, so that `npm run lint` accepts it as written.
const config = await prettier.resolveConfig(output);
const text = await prettier.format(header + astToString(ast), { ...config, parser: 'typescript' });
mkdirSync(dirname(output), { recursive: true });
writeFileSync(output, text);
