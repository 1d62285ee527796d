// Run with plain `node` from a project that installed Kiln's packed tarballs (not the
// repository): only the packages' dist/. The model goes through a real file, read back as the
// Buffer that fs.readFileSync returns.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { trainSaveLoad } from './train-save-load.mjs';

await trainSaveLoad(async (bytes) => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'kiln-app-')), 'model.kiln');
  writeFileSync(file, bytes);
  return readFileSync(file);
});
