/**
 * The adapter conformance suite: the scenarios every platform adapter runs, unchanged, against its fake
 * platform API (principle 9; the chat counterpart of core's `storeConformanceSuite`). A platform takes part
 * through a `PlatformDriver` (a person's commands and presses in, what they see out), and the suite runs on
 * any horde, embedded or remote, given as a `ConformanceHorde`.
 *
 * It registers vitest `describe`/`it` blocks, so this testing entry point imports `vitest` (a peer
 * dependency): use it from test files only.
 *
 * @example
 * describeAdapterConformance('telegram, embedded', () => telegramDriver(), () => startHorde('embedded'));
 */
import { describe } from 'vitest';
import { drawCases } from './conformance/draw.js';
import { useConformance } from './conformance/harness.js';
import { kudosCases } from './conformance/kudos.js';
import { refusalCases } from './conformance/refusals.js';
import type { DriverFactory, HordeFactory } from './conformance/types.js';

export type * from './conformance/types.js';

/**
 * Registers the suite under `name`. `makeDriver` and `makeHorde` are called once for the whole suite, and
 * stopped and closed after it: its scenarios share one horde, platform and chat app (settings and
 * cooldowns are reset between them), so they run in order even inside `describe.concurrent`, where
 * several platforms' suites run side by side.
 */
export function describeAdapterConformance(
  name: string,
  makeDriver: DriverFactory,
  makeHorde: HordeFactory,
): void {
  describe(`adapter conformance: ${name}`, () => {
    const h = useConformance(makeDriver, makeHorde);
    drawCases(h);
    kudosCases(h);
    refusalCases(h);
  });
}
