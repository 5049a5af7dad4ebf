/**
 * Preloaded with `node --import` by test/startup.test.ts: installs hooks that append the URL of
 * every module the CLI resolves to the file named by BGPROBE_MODULE_TRACE.
 */
import { register } from 'node:module';

const file = process.env['BGPROBE_MODULE_TRACE'];
if (file) register('./hooks.js', import.meta.url, { data: { file } });
