/**
 * The fake Discord against the real discord.js: a Client logs in over the fake gateway, receives the
 * interactions the test plays, and its REST calls land in the fake's state.
 */
import { once } from 'node:events';
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  type ChatInputCommandInteraction,
  Client,
  DiscordAPIError,
  EmbedBuilder,
  Events,
  GatewayIntentBits,
  type Interaction,
  MessageFlags,
  ModalBuilder,
  PermissionFlagsBits,
  RESTEvents,
  Routes,
  SlashCommandBuilder,
  type TextChannel,
  TextInputBuilder,
  TextInputStyle,
} from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeDiscord, type FakeDiscordOptions, startFakeDiscord } from './fake-discord.js';

const GUILD = '200000000000000001';
const SAFE = '300000000000000001';
const NSFW = '300000000000000002';
const alice = { id: '400000000000000001', username: 'alice' };
const bob = { id: '400000000000000002', username: 'bob' };
/** A WEBP header, so @discordjs/rest's magic-byte sniffing names the type. */
const webp = Buffer.concat([
  Buffer.from('RIFF'),
  Buffer.from([20, 0, 0, 0]),
  Buffer.from('WEBPVP8 '),
  Buffer.alloc(12, 7),
]);

let fake: FakeDiscord | undefined;
let client: Client | undefined;

afterEach(async () => {
  await client?.destroy();
  await fake?.close();
  client = undefined;
  fake = undefined;
});

async function start(options: FakeDiscordOptions = {}): Promise<{ fake: FakeDiscord; client: Client }> {
  fake = await startFakeDiscord({
    guilds: [
      {
        id: GUILD,
        name: 'horde',
        channels: [
          { id: SAFE, name: 'general' },
          { id: NSFW, name: 'after-dark', nsfw: true },
        ],
        members: [{ ...alice, permissions: '8' }, bob],
      },
    ],
    ...options,
  });
  client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: { api: fake.apiUrl, retries: 0, timeout: 2_000 },
  });
  const ready = once(client, Events.ClientReady);
  await client.login('fake-token');
  await ready;
  return { fake, client };
}

function nextInteraction(bot: Client): Promise<Interaction> {
  return once(bot, Events.InteractionCreate).then(([interaction]) => interaction as Interaction);
}

describe('fake Discord with the real discord.js', () => {
  it('logs a Client in over the fake gateway and fills its cache from GUILD_CREATE', async () => {
    const { fake, client } = await start();
    expect(client.user?.id).toBe(fake.applicationId);
    expect(client.application?.id).toBe(fake.applicationId);
    const guild = client.guilds.cache.get(GUILD);
    expect(guild?.name).toBe('horde');
    expect((client.channels.cache.get(NSFW) as TextChannel).nsfw).toBe(true);
    expect(guild?.members.cache.get(alice.id)?.permissions.has(PermissionFlagsBits.Administrator)).toBe(true);
    expect(fake.log.of('GET /gateway/bot')).toHaveLength(1);
    const identify = fake.log.of('GATEWAY IDENTIFY')[0]?.body;
    expect(identify).toMatchObject({
      token: 'fake-token',
      intents: GatewayIntentBits.Guilds,
      compress: false,
    });
    expect(fake.log.of('GATEWAY connect')[0]?.body).toEqual({ v: '10', encoding: 'json' });
    expect(fake.gatewaySessions).toBe(1);

    // The REST reads discord.js makes on its own.
    expect((await client.application!.fetch()).id).toBe(fake.applicationId);
    expect((await client.guilds.fetch({ guild: GUILD, force: true })).name).toBe('horde');
    const member = await guild!.members.fetch({ user: bob.id, force: true });
    expect(member.user.username).toBe('bob');
  });

  it('delivers a slash command; deferReply and editReply with a file, embed and buttons land on the original', async () => {
    const { fake, client } = await start();
    const received = nextInteraction(client);
    const { interaction: sent, acknowledged } = await fake.slashCommand({
      guildId: GUILD,
      channelId: NSFW,
      user: alice,
      name: 'draw',
      options: [
        { name: 'prompt', type: 3, value: 'a lighthouse' },
        { name: 'steps', type: 4, value: 20 },
      ],
      locale: 'de',
    });
    const interaction = (await received) as ChatInputCommandInteraction;
    expect(interaction.isChatInputCommand()).toBe(true);
    expect(interaction.commandName).toBe('draw');
    expect(interaction.options.getString('prompt')).toBe('a lighthouse');
    expect(interaction.options.getInteger('steps')).toBe(20);
    expect(interaction.locale).toBe('de');
    expect(interaction.token).toBe(sent.token);
    expect((interaction.channel as TextChannel).nsfw).toBe(true);
    expect(interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)).toBe(true);
    expect(interaction.user.username).toBe('alice');

    await interaction.deferReply();
    const ack = await acknowledged;
    expect(ack.type).toBe(5);
    expect(ack.ms).toBeLessThan(1_000);
    expect(fake.original(sent.token)?.flags).toBe(128);

    const buttons = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId('again').setLabel('Again').setStyle(ButtonStyle.Primary),
    );
    const edited = await interaction.editReply({
      content: 'done',
      files: [new AttachmentBuilder(webp, { name: 'a.webp' })],
      embeds: [new EmbedBuilder().setTitle('a lighthouse').setImage('attachment://a.webp')],
      components: [buttons],
    });
    const original = fake.original(sent.token)!;
    expect(edited.id).toBe(original.id);
    expect(original).toMatchObject({ content: 'done', flags: 0, type: 20, channel_id: NSFW });
    expect(original.embeds[0]).toMatchObject({ type: 'rich', title: 'a lighthouse' });
    expect(original.components[0]).toMatchObject({ type: 1, components: [{ custom_id: 'again', type: 2 }] });
    const [attachment] = original.attachments;
    expect(attachment).toMatchObject({ filename: 'a.webp', size: webp.length, content_type: 'image/webp' });
    expect(fake.file(attachment!.id)?.bytes.equals(webp)).toBe(true);
    const served = Buffer.from(await (await fetch(attachment!.url)).arrayBuffer());
    expect(served.equals(webp)).toBe(true);
    expect(edited.attachments.first()?.name).toBe('a.webp');

    // What discord.js sent: multipart with payload_json (attachments by index) and files[0].
    const patch = fake.log.of('PATCH /webhooks/:app/:token/messages/:message')[0]!.body;
    expect(patch.attachments).toMatchObject([{ id: '0' }]);
    expect(patch.files).toMatchObject([{ field: 'files[0]', filename: 'a.webp', type: 'image/webp' }]);
    expect(fake.channelMessages(NSFW).map((message) => message.id)).toEqual([original.id]);
  });

  it('delivers a button press; interaction.update edits the pressed message in place', async () => {
    const { fake, client } = await start();
    const received = nextInteraction(client);
    const { interaction: command } = await fake.slashCommand({ guildId: GUILD, user: bob, name: 'draw' });
    const slash = (await received) as ChatInputCommandInteraction;
    expect(slash.channelId).toBe(SAFE);
    expect(slash.memberPermissions?.has(PermissionFlagsBits.ManageGuild)).toBe(false);
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId('cancel:1').setLabel('Cancel').setStyle(ButtonStyle.Danger),
    );
    const response = await slash.reply({ content: 'queued', components: [row], withResponse: true });
    const message = fake.original(command.token)!;
    expect(response.resource?.message?.id).toBe(message.id);
    expect((await slash.fetchReply()).content).toBe('queued');

    const pressed = nextInteraction(client);
    const { acknowledged } = await fake.pressButton({ message, custom_id: 'cancel:1', user: bob });
    const button = await pressed;
    if (!button.isButton()) throw new Error('expected a button interaction');
    expect(button.customId).toBe('cancel:1');
    expect(button.message.id).toBe(message.id);
    await button.update({ content: 'cancelled', components: [] });
    expect((await acknowledged).type).toBe(7);
    expect(fake.channelMessages(SAFE)).toMatchObject([
      { id: message.id, content: 'cancelled', components: [] },
    ]);
    await button.editReply({ content: 'cancelled (edited)' });
    expect(fake.original(command.token)?.content).toBe('cancelled (edited)');

    const again = nextInteraction(client);
    const second = await fake.pressButton({ message: message.id, custom_id: 'cancel:1', user: bob });
    const deferred = await again;
    if (!deferred.isButton()) throw new Error('expected a button interaction');
    await deferred.deferUpdate();
    expect((await second.acknowledged).type).toBe(6);
    await deferred.editReply({ content: 'edited after deferUpdate' });
    expect(fake.channelMessages(SAFE)).toMatchObject([
      { id: message.id, content: 'edited after deferUpdate' },
    ]);
  });

  it('records autocomplete choices', async () => {
    const { fake, client } = await start();
    client.on(Events.InteractionCreate, (interaction) => {
      if (!interaction.isAutocomplete()) return;
      const typed = interaction.options.getFocused();
      void interaction.respond([{ name: `${typed} (model)`, value: `${typed}-xl` }]);
    });
    const choices = await fake.autocomplete({
      guildId: GUILD,
      user: alice,
      name: 'draw',
      focused: { name: 'model', value: 'flux' },
    });
    expect(choices).toEqual([{ name: 'flux (model)', value: 'flux-xl' }]);
  });

  it('stores commands registered over REST and sends their ids with the interaction', async () => {
    const { fake, client } = await start();
    const draw = new SlashCommandBuilder()
      .setName('draw')
      .setDescription('Draw a picture')
      .addStringOption((option) => option.setName('prompt').setDescription('What').setRequired(true));
    const stored = (await client.rest.put(Routes.applicationGuildCommands(fake.applicationId, GUILD), {
      body: [draw.toJSON()],
    })) as { id: string; name: string }[];
    expect(stored).toMatchObject([{ name: 'draw', guild_id: GUILD }]);
    expect(fake.commands(GUILD)).toMatchObject([
      { id: stored[0]!.id, name: 'draw', description: 'Draw a picture' },
    ]);
    expect(fake.commands()).toEqual([]);

    const received = nextInteraction(client);
    await fake.slashCommand({
      guildId: GUILD,
      user: alice,
      name: 'draw',
      options: [{ name: 'prompt', type: 3, value: 'x' }],
    });
    const interaction = (await received) as ChatInputCommandInteraction;
    expect(interaction.commandId).toBe(stored[0]!.id);

    // A modal is a callback too (type 9); the fake records it.
    const modal = new ModalBuilder().setCustomId('prompt-modal').setTitle('Prompt');
    modal.addComponents(
      new ActionRowBuilder<TextInputBuilder>().addComponents(
        new TextInputBuilder().setCustomId('prompt').setLabel('Prompt').setStyle(TextInputStyle.Paragraph),
      ),
    );
    await interaction.showModal(modal);
    const callback = fake.log.of('POST /interactions/:id/:token/callback').at(-1)?.body;
    expect(callback).toMatchObject({ type: 9, data: { custom_id: 'prompt-modal', title: 'Prompt' } });
  });

  it('rejects editReply with 50027 once tokens expire; a channel message works as the fallback', async () => {
    const { fake, client } = await start();
    const received = nextInteraction(client);
    const { interaction: sent } = await fake.slashCommand({
      guildId: GUILD,
      channelId: SAFE,
      user: alice,
      name: 'draw',
    });
    const interaction = (await received) as ChatInputCommandInteraction;
    await interaction.deferReply();
    fake.expireTokens();
    const error = await interaction.editReply('too late').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ code: 50027, status: 401 });
    expect(fake.original(sent.token)?.content).toBe('');

    const channel = await client.channels.fetch(SAFE);
    if (!channel?.isSendable()) throw new Error('expected a text channel');
    await channel.send({
      content: `<@${alice.id}> your picture`,
      files: [new AttachmentBuilder(webp, { name: 'b.webp' })],
    });
    const last = fake.channelMessages(SAFE).at(-1);
    expect(last).toMatchObject({
      content: `<@${alice.id}> your picture`,
      author: { id: fake.botUser.id, bot: true },
    });
    expect(fake.file(last!.attachments[0]!.id)?.bytes.equals(webp)).toBe(true);
  });

  it('handles DMs: user instead of member, an ephemeral reply, followups', async () => {
    const { fake, client } = await start();
    const received = nextInteraction(client);
    const { interaction: sent, acknowledged } = await fake.slashCommand({ user: bob, name: 'balance' });
    const interaction = (await received) as ChatInputCommandInteraction;
    expect(interaction.inGuild()).toBe(false);
    expect(interaction.guildId).toBeNull();
    expect(interaction.member).toBeNull();
    expect(interaction.user.id).toBe(bob.id);
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    expect((await acknowledged).data).toEqual({ flags: 64 });
    // The first followup after a deferral replaces the "thinking" message, as on Discord.
    await interaction.followUp({ content: 'you have 10 kudos' });
    await interaction.followUp({ content: 'second' });
    const original = fake.original(sent.token)!;
    expect(original).toMatchObject({ content: 'you have 10 kudos', flags: 64 });
    expect(fake.followups(sent.token)).toMatchObject([{ content: 'second', flags: 0 }]);
    expect(fake.channelMessages(interaction.channelId!)).toHaveLength(2);
  });

  it('answers 429 with retry_after; discord.js waits and retries by itself', async () => {
    const { fake, client } = await start();
    const channel = client.channels.cache.get(SAFE) as TextChannel;
    fake.rateLimitNext('POST /channels/:channel/messages', 0.05);
    const limited = once(client.rest, RESTEvents.RateLimited);
    const started = Date.now();
    await channel.send('hello');
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    expect((await limited)[0]).toMatchObject({ route: '/channels/:id/messages' });
    expect(fake.log.of('POST /channels/:channel/messages')).toHaveLength(2);
    expect(fake.channelMessages(SAFE)).toMatchObject([{ content: 'hello' }]);
  });

  it('refuses a second callback and a late first one', async () => {
    const { fake, client } = await start({ callbackDeadlineMs: 100 });
    const received = nextInteraction(client);
    const { acknowledged } = await fake.slashCommand({ guildId: GUILD, user: alice, name: 'draw' });
    const interaction = (await received) as ChatInputCommandInteraction;
    await expect(acknowledged).rejects.toThrow(/not acknowledged within 100 ms/);
    await expect(interaction.deferReply()).rejects.toMatchObject({ code: 10062, status: 404 });

    const again = nextInteraction(client);
    const second = await fake.slashCommand({ guildId: GUILD, user: alice, name: 'draw' });
    const answered = (await again) as ChatInputCommandInteraction;
    await answered.reply('hi');
    await second.acknowledged;
    const error = await client.rest
      .post(Routes.interactionCallback(answered.id, answered.token), {
        body: { type: 4, data: { content: 'x' } },
        auth: false,
      })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 40060, status: 400 });
  });

  it('acknowledges heartbeats, rejects a wrong token, and sees the client go on destroy', async () => {
    const { fake, client } = await start({ heartbeatIntervalMs: 40, token: 'fake-token' });
    await fake.log.next('GATEWAY HEARTBEAT', { after: 0, timeoutMs: 1_000 });
    await expect.poll(() => client.ws.ping, { timeout: 1_000 }).toBeGreaterThanOrEqual(0);

    const intruder = new Client({ intents: [], rest: { api: fake.apiUrl, retries: 0 } });
    await expect(intruder.login('wrong-token')).rejects.toThrow(/invalid token/i);

    await client.destroy();
    await expect.poll(() => fake.gatewaySessions, { timeout: 1_000 }).toBe(0);
  });
});
