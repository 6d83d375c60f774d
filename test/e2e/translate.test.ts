// Chinese prompts end to end: the real bot against the fake Discord and the fake Baidu (both real HTTP
// servers), simulator upstream. What "the upstream received" is read from the bot's `task submitted` log
// line, which carries the prompt handed to the upstream. One bot serves every case here.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type BotProcess, type LogLine } from '../support/bot.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { FakeBaidu } from '../support/fake-baidu.ts';
import { FakeDiscord, type FakeInteraction, type SeenMessage } from '../support/fake-discord.ts';
import { ALICE, customIdOf, imageInfo, isFinal, simulatorEnv } from './support.ts';

let discord: FakeDiscord;
let baidu: FakeBaidu;
let db: TestDatabase;
let bot: BotProcess;
let dir: string;

const EPHEMERAL = 64;

beforeAll(async () => {
  discord = await FakeDiscord.start();
  baidu = await FakeBaidu.start({
    qps: 1, // the standard tier: the fake answers 54003 (and records a violation) to anything faster
    dictionary: {
      一只可爱的猫: 'A cute cat',
      一只红色的狐狸: 'A red fox',
      一只蓝色的鸟: 'A blue bird',
      一条绿色的鱼: 'A green fish',
      一只黄色的狗: 'A yellow dog',
      一只紫色的蝴蝶: 'A purple butterfly',
      一条红色的龙: 'A red dragon',
    },
  });
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(os.tmpdir(), 'banned-words-'));
  await writeFile(path.join(dir, 'banned.txt'), '# this server\ndragon\n');
  bot = await startBot(simulatorEnv(discord, db, 250, { ...baidu.env, BAIDU_QPS: '1', BANNED_WORDS_FILE: path.join(dir, 'banned.txt') }));
});

afterAll(async () => {
  await bot?.stop();
  await db?.destroy();
  await baidu?.close();
  await discord?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const draw = (prompt: string, locale = 'zh-CN') => discord.slashCommand({ name: 'draw', options: { prompt }, userId: ALICE, locale });
const submitted = () => bot.logs.filter((l) => l.msg === 'task submitted').map((l) => l.prompt as string);
const upstreamReceived = (prompt: string) => bot.waitForLog((l) => l.msg === 'task submitted' && l.prompt === prompt);
const ephemeralFollowUp = (i: FakeInteraction) => i.waitForMessage((m) => (m.flags & EPHEMERAL) !== 0);
const logsSince = (mark: number, match: (l: LogLine) => boolean) =>
  bot.waitForLog((l) => bot.logs.indexOf(l) >= mark && match(l));

describe('/draw with a Chinese prompt (Baidu Translate)', () => {
  let result: SeenMessage;

  it('/draw 一只可爱的猫 --ar 16：9 --v 6 → the upstream receives "a cute cat --ar 16:9 --v 6"', async () => {
    const interaction = await draw('一只可爱的猫 --ar 16：9 --v 6');
    expect((await interaction.waitForCallback()).type).toBe(5);
    await upstreamReceived('a cute cat --ar 16:9 --v 6');
    result = await interaction.waitForMessage(isFinal, 20_000);
    expect(result.content).toBe(`**一只可爱的猫 --ar 16：9 --v 6** - <@${ALICE}>\n🌐 实际发送：a cute cat --ar 16:9 --v 6`);
    // The normalised --ar reached the simulator.
    const image = await imageInfo(result);
    expect(image.width / image.height).toBeCloseTo(16 / 9, 1);
    expect(baidu.requests.map((r) => r.lines)).toEqual([['一只可爱的猫']]);
    expect(baidu.requests[0]!.params).toMatchObject({ from: 'zh', to: 'en', appid: baidu.appId });
  });

  it('a repeated prompt, a reroll and a variation cost no Baidu request', async () => {
    const before = baidu.requests.length;
    const again = await draw('一只可爱的猫 --ar 16：9 --v 6', 'en-US');
    const repeated = await again.waitForMessage(isFinal, 20_000);
    expect(repeated.content).toBe(`**一只可爱的猫 --ar 16：9 --v 6** - <@${ALICE}>\n🌐 Sent as: a cute cat --ar 16:9 --v 6`);
    for (const face of ['🔄', 'V1']) {
      const click = await discord.clickButton({ message: result, customId: customIdOf(result, face), userId: ALICE, locale: 'zh-CN' });
      const child = await click.waitForMessage(isFinal, 20_000);
      expect(child.content).toContain('\n🌐 实际发送：a cute cat --ar 16:9 --v 6');
    }
    expect(baidu.requests.length).toBe(before);
  });

  it('prompts that arrive while a request is out share the next one, a line each, within the QPS limit', async () => {
    const before = baidu.requests.length;
    const release = baidu.hold();
    const first = await draw('一只红色的狐狸');
    await baidu.waitForRequests(before + 1);
    const mark = bot.logs.length;
    const others = [await draw('一只蓝色的鸟'), await draw('一条绿色的鱼'), await draw('一只黄色的狗')];
    // All three are waiting for the next slot (the bot logs its queue length as each line joins it).
    await logsSince(mark, (l) => l.msg === 'translation queued' && l.queued === 3);
    release();

    const results = await Promise.all([first, ...others].map((i) => i.waitForMessage(isFinal, 30_000)));
    expect(results.map((m) => m.content.split('\n')[1])).toEqual([
      '🌐 实际发送：a red fox',
      '🌐 实际发送：a blue bird',
      '🌐 实际发送：a green fish',
      '🌐 实际发送：a yellow dog',
    ]);
    const batches = baidu.requests.slice(before).map((r) => r.lines);
    expect(batches).toHaveLength(2);
    expect(batches[0]).toEqual(['一只红色的狐狸']);
    expect([...batches[1]!].sort()).toEqual(['一只蓝色的鸟', '一条绿色的鱼', '一只黄色的狗'].sort());
    baidu.assertNoViolations();
  });

  it('retries a rate-limit answer (54003) and still translates', async () => {
    const mark = bot.logs.length;
    baidu.inject('54003');
    const interaction = await draw('一只紫色的蝴蝶');
    await upstreamReceived('a purple butterfly');
    await interaction.waitForMessage(isFinal, 20_000);
    await logsSince(mark, (l) => l.msg.endsWith('retrying') && l.code === '54003');
  });

  it('when Baidu fails for good, sends the text as typed, tells the user privately in their language and the operator in the log', async () => {
    const mark = bot.logs.length;
    baidu.inject('54001');
    const interaction = await draw('一只孤独的鲸鱼 --ar 16：9');
    expect((await interaction.waitForCallback()).type).toBe(5);
    const notice = await ephemeralFollowUp(interaction);
    expect(notice.content).toMatch(/^翻译服务暂时没有响应/);
    await upstreamReceived('一只孤独的鲸鱼 --ar 16:9');
    const final = await interaction.waitForMessage(isFinal, 20_000);
    expect(final.flags & EPHEMERAL).toBe(0);
    expect(final.content).toBe(`**一只孤独的鲸鱼 --ar 16：9** - <@${ALICE}>\n🌐 实际发送：一只孤独的鲸鱼 --ar 16:9`);
    const error = await logsSince(mark, (l) => l.level === 50 && l.code === '54001');
    expect(error.msg).toMatch(/^Baidu Translate 54001: invalid signature .* — check BAIDU_SECRET/);
  });

  it('refuses a banned word privately, before deferring, naming the word', async () => {
    const interaction = await draw('a nude portrait --ar 2:3', 'en-US');
    const callback = await interaction.waitForCallback();
    expect(callback.type).toBe(4);
    expect(callback.data).toMatchObject({ flags: EPHEMERAL, content: expect.stringMatching(/banned word “nude”/) });
  });

  it('refuses a banned word found in the translation: private refusal, public "thinking" reply removed', async () => {
    const interaction = await draw('一条红色的龙');
    expect((await interaction.waitForCallback()).type).toBe(5);
    const refusal = await ephemeralFollowUp(interaction);
    expect(refusal.content).toBe('你的提示词翻译成英文为“a red dragon”，其中包含禁用词“dragon”，任务未开始。请修改后再试。');
    await discord.waitForCall((c) => c.method === 'DELETE' && c.path.includes(interaction.token) && c.path.endsWith('/messages/@original'));
    expect(interaction.messages()).toEqual([refusal]);
  });

  it('sent nothing banned upstream; --no is not a banned-word match', async () => {
    // Jobs are claimed in arrival order: once this one is submitted, any job accepted before it was too.
    const interaction = await draw('a quiet garden --no nude', 'en-US');
    await upstreamReceived('a quiet garden --no nude');
    await interaction.waitForMessage(isFinal, 20_000);
    expect(submitted().filter((p) => /nude portrait|dragon|龙/.test(p))).toEqual([]);
  });

  it('broke neither protocol', () => {
    discord.assertNoViolations();
    baidu.assertNoViolations();
  });
});
