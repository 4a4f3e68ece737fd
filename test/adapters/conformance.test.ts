/**
 * The adapter conformance suite on every platform (the in-memory one, and Discord, Telegram and Slack
 * through their real SDKs against the fake platform APIs), each against a horde embedded in this process
 * and against our server on its port as a remote AI Horde.
 */
import { describeAdapterConformance, type PlatformDriver } from '@hordekit/adapters/testing';
import { describe } from 'vitest';
import { startConformanceHorde } from '../support/conformance-horde.js';
import { discordDriver } from '../support/platform-drivers/discord.js';
import { memoryDriver } from '../support/platform-drivers/memory.js';
import { slackDriver } from '../support/platform-drivers/slack.js';
import { telegramDriver } from '../support/platform-drivers/telegram.js';

const drivers: Record<string, () => PlatformDriver> = {
  memory: memoryDriver,
  discord: discordDriver,
  telegram: telegramDriver,
  slack: slackDriver,
};

// Each platform × mode has its own horde, fake platform and chat app: they run side by side.
describe.concurrent('every platform, embedded and remote', () => {
  for (const mode of ['embedded', 'remote'] as const) {
    for (const [platform, makeDriver] of Object.entries(drivers)) {
      describeAdapterConformance(`${platform}, ${mode}`, makeDriver, () => startConformanceHorde(mode));
    }
  }
});
