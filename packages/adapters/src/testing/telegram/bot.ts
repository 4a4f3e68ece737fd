/**
 * The fake Bot API's methods about the bot itself: getMe, getUpdates and the webhook methods,
 * the command menu (setMyCommands, getMyCommands, deleteMyCommands), getFile.
 */
import type { BotCommand, File } from 'grammy/types';
import { badRequest, DESCRIPTIONS } from './errors.js';
import { isRecord, optionalInt, optionalString, type Params, requireString } from './params.js';
import type { MethodCall, MethodHandler } from './state.js';

const stringList = (value: unknown): string[] | undefined =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined;

function getUpdates({ params, world, signal }: MethodCall) {
  return world.updates.poll(
    {
      offset: optionalInt(params, 'offset'),
      limit: optionalInt(params, 'limit'),
      timeout: optionalInt(params, 'timeout'),
      allowed_updates: stringList(params.allowed_updates),
    },
    signal,
  );
}

function setWebhook({ params, world }: MethodCall): true {
  const url = requireString(params, 'url', 'bad webhook: An HTTPS URL must be provided for webhook');
  const secret = optionalString(params, 'secret_token');
  if (secret !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secret)) {
    throw badRequest('bad webhook: secret token contains unallowed characters');
  }
  const allowed = stringList(params.allowed_updates);
  const maxConnections = optionalInt(params, 'max_connections');
  world.updates.setWebhook(
    {
      url,
      ...(secret === undefined ? {} : { secret_token: secret }),
      ...(allowed === undefined ? {} : { allowed_updates: allowed }),
      ...(maxConnections === undefined ? {} : { max_connections: maxConnections }),
    },
    params.drop_pending_updates === true,
  );
  return true;
}

function deleteWebhook({ params, world }: MethodCall): true {
  world.updates.setWebhook(undefined, params.drop_pending_updates === true);
  return true;
}

function commandsKey(params: Params): string {
  const scope = isRecord(params.scope) ? params.scope : { type: 'default' };
  return JSON.stringify([scope, optionalString(params, 'language_code') ?? '']);
}

function setMyCommands({ params, world }: MethodCall): true {
  const commands = params.commands;
  if (!Array.isArray(commands) || commands.length > 100) throw badRequest("can't parse commands JSON object");
  for (const command of commands) {
    if (
      !isRecord(command) ||
      typeof command.command !== 'string' ||
      !/^[a-z0-9_]{1,32}$/.test(command.command)
    ) {
      throw badRequest(DESCRIPTIONS.botCommandInvalid);
    }
    if (typeof command.description !== 'string' || command.description.length === 0) {
      throw badRequest('command description is empty');
    }
  }
  const key = commandsKey(params);
  if (commands.length === 0) world.commands.delete(key);
  else world.commands.set(key, commands as BotCommand[]);
  return true;
}

function deleteMyCommands({ params, world }: MethodCall): true {
  world.commands.delete(commandsKey(params));
  return true;
}

function getFile({ params, world }: MethodCall): File {
  const file = world.file(requireString(params, 'file_id'));
  if (!file) throw badRequest(DESCRIPTIONS.invalidFileId);
  return {
    file_id: file.file_id,
    file_unique_id: file.file_unique_id,
    file_size: file.file_size,
    file_path: file.file_path,
  };
}

export const botMethods: Record<string, MethodHandler> = {
  getMe: ({ world }) => world.bot,
  logOut: () => true,
  close: () => true,
  getUpdates,
  setWebhook,
  deleteWebhook,
  getWebhookInfo: ({ world }) => world.updates.webhookInfo(),
  setMyCommands,
  getMyCommands: ({ params, world }) => world.commands.get(commandsKey(params)) ?? [],
  deleteMyCommands,
  getFile,
};
