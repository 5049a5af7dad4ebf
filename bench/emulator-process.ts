/**
 * The emulator in a process of its own, so the CPU and memory it spends never count against
 * the client being measured. Started with `fork`; its options arrive as JSON in argv[2].
 * It answers IPC messages: `stats` (connections and bytes seen by the relay), `reset`, `close`.
 */
import { startEmulator, type EmulatorOptions } from '../src/emulator/server.js';
import { largeAnswer } from './large-answer.js';
import { CountingRelay } from './relay.js';

export type EmulatorRequest = 'stats' | 'reset' | 'close';

export interface BenchEmulatorOptions extends EmulatorOptions {
  /** Size of the generated answer, in characters, instead of a fixed `outputText`. */
  readonly outputChars?: number;
}

async function main(): Promise<void> {
  const { outputChars, ...options } = JSON.parse(process.argv[2] ?? '{}') as BenchEmulatorOptions;
  const emulator = await startEmulator({ ...options, ...(outputChars ? { outputText: largeAnswer(outputChars) } : {}) });
  const { relay, port } = await CountingRelay.start(emulator.port);
  process.on('message', async (message: EmulatorRequest) => {
    if (message === 'stats') process.send?.({ stats: relay.stats() });
    else if (message === 'reset') {
      relay.reset();
      process.send?.({ reset: true });
    }
    else if (message === 'close') {
      await relay.close();
      await emulator.close();
      process.disconnect();
    }
  });
  process.send?.({ baseUrl: `http://127.0.0.1:${port}/v1` });
}

await main();
