/**
 * `/cancel`: cancels every /draw of the person that is still waiting in this place. The requests come
 * from the registry `drawPlugin` keeps (`drawPlugin().requests`, or one `DrawRequests` given to both); each
 * /draw's progress message then ends "… was cancelled." on its own.
 */
import { defineCommand, definePlugin, type PluginDefinition } from '../framework/define.js';
import type { DrawRequests } from './draw-requests.js';

export interface CancelPluginOptions {
  /** The registry of the app's `drawPlugin` (its `requests`, or the `requests` option given to it). */
  requests: DrawRequests;
}

export function cancelPlugin(options: CancelPluginOptions): PluginDefinition {
  const cancel = defineCommand({
    name: 'cancel',
    description: 'Cancel your pictures still waiting here',
    private: true,
    async handler(context) {
      const mine = options.requests.runningFor({
        platform: context.where.platform,
        placeId: context.where.placeId,
        userId: context.who.id,
      });
      if (mine.length === 0) {
        await context.ephemeral('You have no picture waiting here: nothing to cancel.');
        return;
      }
      const outcomes = await Promise.allSettled(
        mine.map((draw) => context.horde.client.cancel(draw.requestId)),
      );
      const cancelled = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
      const failed = mine.length - cancelled;
      const lines = [
        cancelled === 0
          ? 'Nothing was cancelled.'
          : `Cancelled ${cancelled} request${cancelled === 1 ? '' : 's'}: ${mine
              .filter((_, index) => outcomes[index]?.status === 'fulfilled')
              .map((draw) => `“${draw.prompt}”`)
              .join(', ')}.`,
      ];
      if (failed > 0) {
        lines.push(
          `${failed} could not be cancelled (finished just now, or the horde did not answer); try again if one is still waiting.`,
        );
      }
      await context.ephemeral(lines.join(' '));
    },
  });
  return definePlugin({ name: 'cancel', commands: [cancel] });
}
