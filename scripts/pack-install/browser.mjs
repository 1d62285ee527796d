// The browser bundle's entry (esbuild, platform 'browser'): the same program, the model bytes
// kept in memory.
import { trainSaveLoad } from './train-save-load.mjs';

await trainSaveLoad();
