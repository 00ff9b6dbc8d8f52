// Write the sidebar's REST types (src/generated/api.ts) from the server's OpenAPI document, so
// that the types cannot drift from what the server documents. tests/test_openapi_types.py runs
// this into a temporary file and fails when the committed file differs.
//
//   node scripts/generate-api.mjs [output]   (PYTHON: the interpreter with jupyter_mlapp, default
//                                             the repository's .venv)
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import openapiTS, { astToString } from 'openapi-typescript';
import * as prettier from 'prettier';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const output = process.argv[2] ?? join(root, 'src', 'generated', 'api.ts');
const python = process.env.PYTHON ?? join(root, '..', '.venv', 'bin', 'python');

const document = JSON.parse(
  execFileSync(python, [join(root, 'scripts', 'openapi.py')], { encoding: 'utf-8' })
);
// Properties of a schema without a `required` list are all sent: the server writes every field
// of its records (null when unknown), and the views read them without checking for absence.
const ast = await openapiTS(document, { propertiesRequiredByDefault: true });
const header =
  '// Generated from the OpenAPI document by scripts/generate-api.mjs: do not edit; run\n' +
  '// `npm run generate:api` after changing a room\'s OpenAPI.\n\n';
// Formatted with the project's prettier settings, so that `npm run lint` accepts it as written.
const config = await prettier.resolveConfig(join(root, 'src', 'generated', 'api.ts'));
const text = await prettier.format(header + astToString(ast), { ...config, parser: 'typescript' });
writeFileSync(output, text);
