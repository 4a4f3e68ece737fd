/** `docs/benchmarks.md` holds one section per benchmark script; each script rewrites only its own. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const NEW_FILE = '# Benchmarks\n\nPerformance figures, each recorded by the script named in its section.\n';

/** Replaces the section that starts with `heading` (up to the next `## `), or appends it. */
export function replaceSection(path: string, heading: string, text: string): string {
  const current = existsSync(path) ? readFileSync(path, 'utf8') : NEW_FILE;
  const start = current.indexOf(heading);
  let next: string;
  if (start === -1) {
    next = `${current.trimEnd()}\n\n${text}`;
  } else {
    const end = current.indexOf('\n## ', start + 1);
    next = `${current.slice(0, start)}${text}${end === -1 ? '' : `\n${current.slice(end + 1)}`}`;
  }
  writeFileSync(path, `${next.trimEnd()}\n`);
  return path;
}
