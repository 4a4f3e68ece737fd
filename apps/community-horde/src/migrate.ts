/**
 * The entry of `npm run migrate:sqlite-to-postgres` (built as dist/migrate.js): runs the migration in
 * migrate/main.ts when started as a script, and exports `main` for tests.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { main } from './migrate/main.js';

export { type MigrateIo, main } from './migrate/main.js';

function invokedDirectly(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2), process.env).then((code) => {
    process.exitCode = code;
  });
}
