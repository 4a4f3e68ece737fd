#!/usr/bin/env node
/**
 * `npm run draw -- "a lighthouse at dusk" --out lighthouse.webp`: the command line around `draw`. Reads the
 * environment once, maps failures to exit codes (2 bad usage, 1 failed, 130 interrupted).
 */
import { parseDrawArgs, USAGE, UsageError } from './args.js';
import { DrawError, draw } from './draw.js';

async function main(): Promise<number> {
  let command: ReturnType<typeof parseDrawArgs>;
  try {
    command = parseDrawArgs(process.argv.slice(2), {
      HORDE_URL: process.env.HORDE_URL,
      HORDE_API_KEY: process.env.HORDE_API_KEY,
    });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`draw: ${error.message}\nRun with --help for the options.\n`);
    return 2;
  }
  if (command.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  // The first Ctrl-C cancels the request on the horde; a second one leaves at once.
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\ncancelling… (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    await draw(command.options, { stdout: process.stdout, signal: controller.signal });
    return 0;
  } catch (error) {
    if (!(error instanceof DrawError)) throw error;
    process.stderr.write(`draw: ${error.message}\n`);
    return error.exitCode;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

process.exitCode = await main();
