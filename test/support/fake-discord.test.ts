// Proves the fake Discord against the real client: a discord.js Client in this process connects
// to it over HTTP and WebSocket exactly as the bot does, so what passes here works for the bot.
import { crc32, deflateSync } from 'node:zlib';
import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  EmbedBuilder,
  Events,
  GatewayIntentBits,
  MessageFlags,
  ModalBuilder,
  PermissionFlagsBits,
  Routes,
  SlashCommandBuilder,
  StringSelectMenuBuilder,
  TextInputBuilder,
  TextInputStyle,
  type ChatInputCommandInteraction,
  type Interaction,
  type TextChannel,
} from 'discord.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { FakeDiscord } from './fake-discord.ts';

/** A real (tiny) PNG, so attachment dimensions can be checked. */
function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body) >>> 0, body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows = Buffer.alloc((width * 3 + 1) * height, 0x7f);
  for (let y = 0; y < height; y++) rows[y * (width * 3 + 1)] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

const drawCommand = new SlashCommandBuilder()
  .setName('draw')
  .setNameLocalizations({ 'zh-CN': '画图' })
  .setDescription('Draw an image')
  .setDescriptionLocalizations({ 'zh-CN': '画一张图' })
  .addStringOption((o) => o.setName('prompt').setDescription('What to draw').setRequired(true).setMaxLength(1000));

function buttons(...ids: string[]) {
  return new ActionRowBuilder<ButtonBuilder>().addComponents(ids.map((id) => new ButtonBuilder().setCustomId(id).setLabel(id).setStyle(ButtonStyle.Secondary)));
}

let fake: FakeDiscord;
let client: Client;
const received = new Map<string, Interaction>();
const arrivals = new Set<() => void>();

/** The discord.js interaction the client built for a fake interaction id. */
function clientInteraction(id: string, timeoutMs = 5000): Promise<Interaction> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = received.get(id);
      if (!found) return;
      clearTimeout(timer);
      arrivals.delete(check);
      resolve(found);
    };
    const timer = setTimeout(() => {
      arrivals.delete(check);
      reject(new Error(`interaction ${id} never reached the client`));
    }, timeoutMs);
    arrivals.add(check);
    check();
  });
}

beforeAll(async () => {
  fake = await FakeDiscord.start();
  client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.apiUrl } });
  client.on(Events.InteractionCreate, (interaction) => {
    received.set(interaction.id, interaction);
    for (const check of arrivals) check();
  });
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(fake.token);
  await ready;
  await client.application!.commands.set([drawCommand.toJSON()], fake.guildId);
});

afterAll(async () => {
  await client?.destroy();
  await fake?.close();
});

beforeEach(() => {
  fake.clearRecords();
});

describe('FakeDiscord with a real discord.js client', () => {
  it('completes the gateway handshake: READY, then the guild with its text channel', async () => {
    await fake.waitForReady();
    expect(client.user?.id).toBe(fake.botUserId);
    expect(client.application?.id).toBe(fake.applicationId);
    const guild = client.guilds.cache.get(fake.guildId);
    expect(guild?.available).toBe(true);
    expect(guild?.channels.cache.get(fake.channelId)?.isTextBased()).toBe(true);
    expect(guild?.roles.everyone.permissions.has(PermissionFlagsBits.SendMessages)).toBe(true);
  });

  it('stores bulk-overwritten commands with ids and localizations, keeping ids on re-registration', async () => {
    const [stored] = fake.commands(fake.guildId);
    expect(stored).toMatchObject({ name: 'draw', type: 1, name_localizations: { 'zh-CN': '画图' }, application_id: fake.applicationId });
    expect(stored?.id).toMatch(/^\d{17,20}$/);

    const again = await client.application!.commands.set([drawCommand.toJSON()], fake.guildId);
    expect(again.first()?.id).toBe(stored?.id);
    expect(again.first()?.nameLocalizations).toEqual({ 'zh-CN': '画图' });

    const global = await client.application!.commands.set([drawCommand.toJSON()]);
    expect(global.size).toBe(1);
    expect(fake.commands()).toHaveLength(1);
    fake.assertNoViolations();
  });

  it('delivers a slash command as a ChatInputCommandInteraction with locale and options', async () => {
    const handle = await fake.slashCommand({ name: 'draw', options: { prompt: 'a cat' }, locale: 'zh-CN' });
    const interaction = await clientInteraction(handle.id);
    expect(interaction.isChatInputCommand()).toBe(true);
    if (!interaction.isChatInputCommand()) return;
    expect(interaction.commandName).toBe('draw');
    expect(interaction.commandId).toBe(fake.commands(fake.guildId)[0]?.id);
    expect(interaction.locale).toBe('zh-CN');
    expect(interaction.options.getString('prompt')).toBe('a cat');
    expect(interaction.guildId).toBe(fake.guildId);
    expect(interaction.channelId).toBe(fake.channelId);
    expect(interaction.member?.user.id).toBe(interaction.user.id);
    expect(interaction.attachmentSizeLimit).toBe(fake.uploadLimitBytes);

    // A user in zh-CN may also type the localized name; Discord still sends the base name.
    const localized = await fake.slashCommand({ name: '画图', options: { prompt: 'x' }, locale: 'zh-CN' });
    expect((localized.payload.data as { name: string }).name).toBe('draw');
    await expect(fake.slashCommand({ name: 'nope' })).rejects.toThrow(/No chat input command "nope"/);
    // The Discord client enforces max_length; `unchecked` forges past it.
    await expect(fake.slashCommand({ name: 'draw', options: { prompt: 'x'.repeat(1001) } })).rejects.toThrow(/at most 1000 characters/);
    const forged = await fake.slashCommand({ name: 'draw', options: { prompt: 'x'.repeat(1001) }, unchecked: true });
    expect(((await clientInteraction(forged.id)) as ChatInputCommandInteraction).options.getString('prompt')).toHaveLength(1001);
  });

  it('records deferReply + editReply with files and buttons, and serves the uploaded bytes', async () => {
    const image = png(4, 3);
    const handle = await fake.slashCommand({ name: 'draw', options: { prompt: 'a cat' } });
    const interaction = await clientInteraction(handle.id);
    if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');

    await interaction.deferReply();
    expect((await handle.waitForCallback()).type).toBe(5);
    expect(handle.original()?.flags).toBe(128); // "Bot is thinking..."

    const reply = await interaction.editReply({ content: '42%', files: [{ attachment: image, name: 'x.png' }], components: [buttons('upscale:1', 'upscale:2')] });
    expect(reply.content).toBe('42%');
    expect(reply.attachments.first()?.name).toBe('x.png');

    const [edit] = handle.edits();
    expect(edit?.files[0]).toMatchObject({ field: 'files[0]', filename: 'x.png', contentType: 'image/png', size: image.length });
    expect(edit?.payload.content).toBe('42%');

    const seen = await handle.waitForMessage((m) => m.content === '42%');
    expect(seen.flags & 128).toBe(0);
    expect(seen.attachments[0]).toMatchObject({ filename: 'x.png', size: image.length, content_type: 'image/png', width: 4, height: 3 });
    expect(seen.attachments[0]?.bytes.equals(image)).toBe(true);
    const downloaded = Buffer.from(await (await fetch(seen.attachments[0]!.url)).arrayBuffer());
    expect(downloaded.equals(image)).toBe(true);
    expect(seen.components[0]).toMatchObject({ type: 1, components: [{ type: 2, custom_id: 'upscale:1' }, { type: 2, custom_id: 'upscale:2' }] });

    const followUp = await interaction.followUp({ content: 'done', flags: MessageFlags.Ephemeral });
    expect(followUp.flags.has(MessageFlags.Ephemeral)).toBe(true);
    expect(handle.messages().map((m) => m.content)).toEqual(['42%', 'done']);
    fake.assertNoViolations();
  });

  it('delivers a button click as a ButtonInteraction on the stored message; update() edits it', async () => {
    const handle = await fake.slashCommand({ name: 'draw', options: { prompt: 'a dog' } });
    const command = await clientInteraction(handle.id);
    if (!command.isChatInputCommand()) throw new Error('expected a chat input command');
    await command.reply({ content: 'pick one', components: [buttons('upscale:1', 'upscale:2')] });
    const message = await handle.waitForMessage();

    await expect(fake.clickButton({ message, customId: 'missing' })).rejects.toThrow(/no button with custom_id "missing"/);
    // A forged (or stale) click is possible on request, to test the bot's own defences.
    const forged = await fake.clickButton({ message, customId: 'forged', unchecked: true });
    expect((await clientInteraction(forged.id)).isButton()).toBe(true);
    const click = await fake.clickButton({ message, customId: 'upscale:2', locale: 'zh-TW' });
    const interaction = await clientInteraction(click.id);
    expect(interaction.isButton()).toBe(true);
    if (!interaction.isButton()) return;
    expect(interaction.customId).toBe('upscale:2');
    expect(interaction.locale).toBe('zh-TW');
    expect(interaction.message.id).toBe(message.id);
    expect(interaction.message.content).toBe('pick one');

    await interaction.update({ content: 'upscaling #2', components: [] });
    expect(click.callbacks[0]?.type).toBe(7);
    expect(fake.message(message.id)).toMatchObject({ content: 'upscaling #2', components: [] });
    expect((await click.waitForMessage((m) => m.content === 'upscaling #2')).id).toBe(message.id);
    fake.assertNoViolations();
  });

  it('round-trips a modal: showModal, then the submitted text inputs', async () => {
    const handle = await fake.slashCommand({ name: 'draw', options: { prompt: 'x' } });
    const command = await clientInteraction(handle.id);
    if (!command.isChatInputCommand()) throw new Error('expected a chat input command');
    const modal = new ModalBuilder()
      .setCustomId('edit-prompt')
      .setTitle('Edit prompt')
      .addComponents(new ActionRowBuilder<TextInputBuilder>().addComponents(new TextInputBuilder().setCustomId('prompt').setLabel('Prompt').setStyle(TextInputStyle.Paragraph)));
    await command.showModal(modal);
    expect(handle.callbacks[0]?.type).toBe(9);

    const submit = await fake.submitModal({ from: handle, values: { prompt: 'a red fox' } });
    const interaction = await clientInteraction(submit.id);
    expect(interaction.isModalSubmit()).toBe(true);
    if (!interaction.isModalSubmit()) return;
    expect(interaction.customId).toBe('edit-prompt');
    expect(interaction.fields.getTextInputValue('prompt')).toBe('a red fox');
    await interaction.reply({ content: 'ok' });
    fake.assertNoViolations();
  });

  it('accepts what discord.js builders produce for rich commands and messages', async () => {
    const rich = new SlashCommandBuilder()
      .setName('imagine')
      .setDescription('All option kinds')
      .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
      .setContexts(0)
      .setIntegrationTypes(0)
      .addSubcommand((s) =>
        s
          .setName('run')
          .setDescription('Run')
          .addStringOption((o) => o.setName('mode').setDescription('Mode').setRequired(true).addChoices({ name: 'Fast', value: 'fast', name_localizations: { 'zh-CN': '快速' } }))
          .addIntegerOption((o) => o.setName('count').setDescription('Count').setMinValue(1).setMaxValue(4))
          .addNumberOption((o) => o.setName('weight').setDescription('Weight'))
          .addBooleanOption((o) => o.setName('private').setDescription('Private'))
          .addAttachmentOption((o) => o.setName('image').setDescription('Image'))
          .addUserOption((o) => o.setName('user').setDescription('User')),
      );
    await client.application!.commands.set([drawCommand.toJSON(), rich.toJSON()], fake.guildId);

    const handle = await fake.slashCommand({
      name: 'imagine',
      subcommand: 'run',
      memberPermissions: PermissionFlagsBits.ManageGuild,
      options: { mode: 'fast', count: 2, private: true, image: { filename: 'ref.png', bytes: png(2, 2) }, user: '1300000000000000999' },
    });
    const interaction = await clientInteraction(handle.id);
    if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');
    expect(interaction.options.getSubcommand()).toBe('run');
    expect(interaction.options.getInteger('count')).toBe(2);
    expect(interaction.options.getAttachment('image')?.width).toBe(2);
    expect(interaction.options.getUser('user')?.id).toBe('1300000000000000999');
    await expect(fake.slashCommand({ name: 'imagine', subcommand: 'run', options: { mode: 'fast' } })).rejects.toThrow(/default_member_permissions/);

    const channel = client.channels.cache.get(fake.channelId) as TextChannel;
    const sent = await channel.send({
      content: 'rich',
      embeds: [new EmbedBuilder().setTitle('Result').setDescription('done').setImage('attachment://x.png').setTimestamp(new Date()).setFooter({ text: 'f' }).addFields({ name: 'a', value: 'b', inline: true })],
      files: [{ attachment: png(1, 1), name: 'x.png', description: 'alt text' }],
      components: [
        buttons('a', 'b'),
        new ActionRowBuilder<ButtonBuilder>().addComponents(new ButtonBuilder().setStyle(ButtonStyle.Link).setURL('https://example.com/').setLabel('Open')),
        new ActionRowBuilder<StringSelectMenuBuilder>().addComponents(new StringSelectMenuBuilder().setCustomId('pick').addOptions({ label: 'One', value: '1' }, { label: 'Two', value: '2' })),
      ],
    });
    // Discord points `attachment://x.png` embed media at the uploaded file.
    const stored = fake.message(sent.id)!;
    expect(stored.attachments[0]).toMatchObject({ filename: 'x.png', description: 'alt text' });
    expect(stored.embeds[0]).toMatchObject({ type: 'rich', image: { url: stored.attachments[0]!.url, width: 1, height: 1 } });
    expect(sent.embeds[0]?.image?.url).toBe(stored.attachments[0]!.url);
    fake.assertNoViolations();
    await client.application!.commands.set([drawCommand.toJSON()], fake.guildId);
  });

  it('records an invalid body as a violation and answers 400 / 50035 like Discord', async () => {
    const body = { content: 'x', components: [{ type: 1, components: [{ type: 2, style: 1, custom_id: 'a'.repeat(101), label: 'Go' }] }] };
    await expect(client.rest.post(Routes.channelMessages(fake.channelId), { body })).rejects.toMatchObject({ status: 400, code: 50035 });
    expect(fake.violations).toHaveLength(1);
    expect(fake.violations[0]).toMatchObject({ method: 'POST', path: `/channels/${fake.channelId}/messages` });
    expect(fake.violations[0]?.issues.join('\n')).toMatch(/components\[0\]\.components\[0\]\.custom_id/);
    expect(() => fake.assertNoViolations()).toThrow(/custom_id/);

    // Limits the schema does not know: 2000 characters of content, 5 buttons per row, locales.
    await expect(client.rest.post(Routes.channelMessages(fake.channelId), { body: { content: 'x'.repeat(2001) } })).rejects.toMatchObject({ code: 50035 });
    await expect(
      client.rest.put(Routes.applicationCommands(fake.applicationId), { body: [{ name: 'Draw', description: 'd', name_localizations: { cn: '画图' } }] }),
    ).rejects.toMatchObject({ code: 50035 });
    const issues = fake.violations.flatMap((v) => v.issues).join('\n');
    expect(issues).toMatch(/content: Must be 2000 or fewer/);
    expect(issues).toMatch(/"Draw" must be lower-case/);
    expect(issues).toMatch(/"cn" is not a Discord locale/);
    fake.clearRecords();
  });

  it('signs attachment links, refuses them once expired, and renews them with POST /attachments/refresh-urls', async () => {
    const image = png(2, 2);
    const { url } = fake.uploadAttachment({ filename: 'a.png', bytes: image });
    expect(url).toMatch(/\/a\.png\?ex=[0-9a-f]+&is=[0-9a-f]+&hm=[0-9a-f]{64}$/);
    expect((await fetch(url)).status).toBe(200);
    // A forged expiry is refused: the signature covers it.
    expect((await fetch(url.replace(/ex=[0-9a-f]+/, 'ex=ffffffff'))).status).toBe(404);

    fake.expireAttachmentLinks();
    expect((await fetch(url)).status).toBe(404);
    const answer = (await client.rest.post('/attachments/refresh-urls', { body: { attachment_urls: [url, 'https://example.com/x.png'] } })) as {
      refreshed_urls: Array<{ original: string; refreshed: string }>;
    };
    expect(answer.refreshed_urls.map((r) => r.original)).toEqual([url, 'https://example.com/x.png']);
    expect(answer.refreshed_urls[1]!.refreshed).toBe('https://example.com/x.png');
    const renewed = answer.refreshed_urls[0]!.refreshed;
    expect(renewed).not.toBe(url);
    expect(Buffer.from(await (await fetch(renewed)).arrayBuffer()).equals(image)).toBe(true);
    fake.assertNoViolations();

    // Discord takes 1 to 50 links per request.
    await expect(client.rest.post('/attachments/refresh-urls', { body: { attachment_urls: [] } })).rejects.toMatchObject({ status: 400, code: 50035 });
    expect(() => fake.assertNoViolations()).toThrow(/attachment_urls/);
    fake.clearRecords();
  });

  it('answers 401 to a wrong bot token and 404 (recorded as unexpected) to unknown routes', async () => {
    const res = await fetch(`${fake.apiUrl}/v10/users/@me`, { headers: { Authorization: 'Bot wrong' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/json');
    const unknown = await fetch(`${fake.apiUrl}/v10/nowhere`, { headers: { Authorization: `Bot ${fake.token}` } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ message: '404: Not Found', code: 0 });
    expect(fake.unexpectedCalls.map((c) => c.path)).toEqual(['/nowhere']);
    expect(() => fake.assertNoViolations()).toThrow(/route not known/);
    fake.clearRecords();
  });

  it('lets discord.js retry an injected 429 and succeed', async () => {
    const channel = client.channels.cache.get(fake.channelId) as TextChannel;
    fake.inject({ method: 'POST', path: `/channels/${fake.channelId}/messages`, status: 429, retryAfter: 0.2 });
    const started = Date.now();
    const message = await channel.send('after the rate limit');
    expect(message.content).toBe('after the rate limit');
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
    const posts = fake.calls.filter((c) => c.method === 'POST' && c.route === '/channels/:channelId/messages');
    expect(posts.map((c) => [c.status, c.injected])).toEqual([
      [429, true],
      [200, false],
    ]);
    fake.assertNoViolations();
  });

  it('answers 503 to message writes during an outage (callbacks still pass) and handles them again after', async () => {
    fake.clearRecords();
    const handle = await fake.slashCommand({ name: 'draw', options: { prompt: 'x' } });
    const interaction = await clientInteraction(handle.id);
    if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');
    fake.startOutage({ scope: 'messages' });
    await interaction.deferReply();
    const during = await fetch(`${fake.apiUrl}/v10/webhooks/${fake.applicationId}/${handle.token}/messages/@original`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'lost in the outage' }),
    });
    expect(during.status).toBe(503);
    fake.endOutage();
    await interaction.editReply('after the outage');
    expect(handle.original()?.content).toBe('after the outage');
    const patches = fake.calls.filter((c) => c.method === 'PATCH' && c.route === '/webhooks/:applicationId/:token/messages/@original');
    expect(patches.map((c) => [c.status, c.fault ?? null])).toEqual([
      [503, 'outage'],
      [200, null],
    ]);
    expect(fake.outages).toHaveLength(1);
    expect(fake.outages[0]!.to).toBeGreaterThanOrEqual(fake.outages[0]!.from);
    fake.assertNoViolations();
  });

  it('answers a seeded fraction of message writes 429 with Retry-After, which discord.js waits out', async () => {
    fake.clearRecords();
    const channel = client.channels.cache.get(fake.channelId) as TextChannel;
    fake.setRateLimit({ rate: 0.5, seed: 7, retryAfter: 0.1 });
    try {
      for (let i = 0; i < 6; i++) expect((await channel.send(`message ${i}`)).content).toBe(`message ${i}`);
    } finally {
      fake.setRateLimit(null);
    }
    const posts = fake.calls.filter((c) => c.method === 'POST' && c.route === '/channels/:channelId/messages');
    const limited = posts.filter((c) => c.fault === 'rateLimit');
    expect(limited.length).toBeGreaterThan(0);
    expect(posts.filter((c) => c.status === 200)).toHaveLength(6);
    expect(limited.every((c) => c.status === 429)).toBe(true);
    fake.assertNoViolations();
  });

  it('makes deferReply reject on an injected 10062 Unknown interaction', async () => {
    fake.inject({ path: /\/callback$/, status: 404, code: 10062 });
    const handle = await fake.slashCommand({ name: 'draw', options: { prompt: 'x' } });
    const interaction = await clientInteraction(handle.id);
    if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');
    await expect(interaction.deferReply()).rejects.toMatchObject({ code: 10062, status: 404 });
    expect(handle.acknowledged).toBe(false);
    fake.assertNoViolations();
  });

  it('refuses a second acknowledgement (40060) and edits through an expired token (50027)', async () => {
    const handle = await fake.slashCommand({ name: 'draw', options: { prompt: 'x' } });
    const interaction = await clientInteraction(handle.id);
    if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');
    await interaction.deferReply();
    await expect(client.rest.post(Routes.interactionCallback(handle.id, handle.token), { body: { type: 5 }, auth: false })).rejects.toMatchObject({ code: 40060 });
    expect(fake.violations.map((v) => v.issues[0])).toEqual([expect.stringMatching(/already acknowledged/)]);

    handle.expireToken();
    await expect(interaction.editReply('late')).rejects.toMatchObject({ code: 50027, status: 401 });
    fake.clearRecords();
  });

  it('answers 413 / 40005 for a file over the upload limit', async () => {
    const channel = client.channels.cache.get(fake.channelId) as TextChannel;
    const big = Buffer.alloc(fake.uploadLimitBytes + 1);
    await expect(channel.send({ files: [{ attachment: big, name: 'big.bin' }] })).rejects.toMatchObject({ status: 413, code: 40005 });
    expect(fake.violations[0]?.status).toBe(413);
    fake.clearRecords();
  });

  it('returns the callback response with with_response=true', async () => {
    const handle = await fake.slashCommand({ name: 'draw', options: { prompt: 'x' } });
    const interaction = await clientInteraction(handle.id);
    if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');
    const response = await interaction.reply({ content: 'hello', withResponse: true });
    expect(response.resource?.message?.content).toBe('hello');
    expect(response.interaction.id).toBe(handle.id);
    fake.assertNoViolations();
  });

  it('survives a dropped gateway: the client resumes and still receives interactions', async () => {
    const identifies = fake.gatewayEvents.filter((e) => e.kind === 'identify').length;
    const since = Date.now();
    await fake.disconnectGateway();
    // Dispatched while the bot is away: delivered when it resumes.
    fake.dispatch('GUILD_UPDATE', { id: fake.guildId, name: 'Renamed while away', features: [], roles: [] });
    await fake.waitForResumed({ since, timeoutMs: 10_000 });
    expect(fake.gatewayEvents.filter((e) => e.kind === 'identify').length).toBe(identifies);

    const handle = await fake.slashCommand({ name: 'draw', options: { prompt: 'after resume' } });
    const interaction = await clientInteraction(handle.id);
    expect(interaction.isChatInputCommand()).toBe(true);
    await expect.poll(() => client.guilds.cache.get(fake.guildId)?.name).toBe('Renamed while away');
  });
});

describe('FakeDiscord gateway rules (raw WebSocket client)', () => {
  interface Frame {
    op: number;
    t?: string | null;
    s?: number | null;
    d?: unknown;
  }

  /** A bare gateway client that records frames and the close code. */
  async function connect(url: string) {
    const socket = new WebSocket(`${url}?v=10&encoding=json`);
    const frames: Frame[] = [];
    let closeCode: number | undefined;
    socket.on('message', (data) => frames.push(JSON.parse(data.toString()) as Frame));
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve((closeCode = code))));
    await new Promise((resolve) => socket.once('open', resolve));
    const next = async (match: (f: Frame) => boolean) => {
      await expect.poll(() => frames.find(match), { timeout: 3000 }).toBeDefined();
      return frames.find(match)!;
    };
    return { socket, frames, closed, next, closeCode: () => closeCode, send: (f: Frame) => socket.send(JSON.stringify(f)) };
  }

  it('acknowledges heartbeats and closes 4004 on a wrong token', async () => {
    const fake = await FakeDiscord.start({ heartbeatIntervalMs: 1000 });
    try {
      const gw = await connect(fake.gatewayUrl);
      expect((await gw.next((f) => f.op === 10)).d).toMatchObject({ heartbeat_interval: 1000 });
      gw.send({ op: 1, d: null });
      await gw.next((f) => f.op === 11);
      gw.send({ op: 2, d: { token: 'wrong', intents: 1, properties: {} } });
      expect(await gw.closed).toBe(4004);
    } finally {
      await fake.close();
    }
  });

  it('flags a callback after the 3 s deadline and replays missed dispatches on RESUME', async () => {
    const fake = await FakeDiscord.start({ callbackDeadlineMs: 50 });
    try {
      const first = await connect(fake.gatewayUrl);
      first.send({ op: 2, d: { token: fake.token, intents: 1, properties: {} } });
      const ready = await first.next((f) => f.t === 'READY');
      await first.next((f) => f.t === 'GUILD_CREATE');
      const sessionId = (ready.d as { session_id: string }).session_id;
      await fake.waitForReady();
      const put = await fetch(`${fake.apiUrl}/v10/applications/${fake.applicationId}/commands`, {
        method: 'PUT',
        headers: { Authorization: `Bot ${fake.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify([drawCommand.toJSON()]),
      });
      expect(put.status).toBe(200);
      const seenSeq = Math.max(...first.frames.map((f) => f.s ?? 0));
      first.socket.terminate();
      await first.closed;

      // The interaction is dispatched while no socket is connected...
      const pending = fake.slashCommand({ name: 'draw', options: { prompt: 'x' } });
      const second = await connect(fake.gatewayUrl);
      second.send({ op: 6, d: { token: fake.token, session_id: sessionId, seq: seenSeq } });
      const handle = await pending;
      // ...and replayed before RESUMED.
      const replayed = await second.next((f) => f.t === 'INTERACTION_CREATE');
      const resumed = await second.next((f) => f.t === 'RESUMED');
      expect(replayed.s).toBeLessThan(resumed.s!);
      expect((replayed.d as { id: string }).id).toBe(handle.id);

      await new Promise((resolve) => setTimeout(resolve, 80));
      const res = await fetch(`${fake.apiUrl}/v10/interactions/${handle.id}/${handle.token}/callback`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 5 }),
      });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 10062 });
      expect(() => fake.assertNoViolations()).toThrow(/defer first/);
      second.socket.terminate();
    } finally {
      await fake.close();
    }
  });
});
