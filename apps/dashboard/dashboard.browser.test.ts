/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster, freePortLayout } from '../cli/local-cluster.js';
import { chromiumPath } from './chromium-path.js';
import { DashboardServer } from './dashboard-server.js';
import { LocalDashboardCluster } from './local-dashboard.js';

/** Screenshots land here, for a person to look at after the run. */
const artifacts = join(process.cwd(), 'test-artifacts');
const pageWaitMs = 30_000;

let directory = '';
let cluster: LocalCluster | null = null;
let control: LocalDashboardCluster | null = null;
let dashboard: DashboardServer | null = null;
let browser: Browser | null = null;
let page: Page | null = null;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'raftkit-dashboard-'));
  cluster = new LocalCluster({
    directory,
    layout: await freePortLayout(3, 'raftkit-dashboard-test'),
    serverArgs: ['--tick-ms', '50'],
  });
  await cluster.start();
  control = new LocalDashboardCluster(cluster);
  dashboard = new DashboardServer({ cluster: control, pollIntervalMs: 250 });
  await dashboard.start();
  const executablePath = chromiumPath();
  if (executablePath === null) throw new Error('Chromium is needed for this test');
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await control?.close();
  await dashboard?.stop();
  await cluster?.stop();
  rmSync(directory, { recursive: true, force: true });
}, 60_000);

/** The id of the server the page marks as leader, once exactly one is marked. */
async function markedLeader(page: Page, not?: string): Promise<string> {
  const selector =
    not === undefined
      ? '[data-role="leader"]'
      : `[data-role="leader"]:not([data-node-id="${not}"])`;
  await page.waitForFunction(
    (selector) =>
      document.querySelectorAll(selector).length === 1 &&
      document.querySelectorAll('[data-role="leader"]').length === 1,
    selector,
    { timeout: pageWaitMs },
  );
  return (await page.getAttribute('[data-role="leader"]', 'data-node-id'))!;
}

describe('dashboard in a browser', () => {
  it('shows three servers and one leader; stopping the leader from the page marks a new one', async () => {
    await page!.goto(dashboard!.url);
    await page!.waitForFunction(
      () => document.querySelectorAll('[data-node-id]').length === 3,
      null,
      {
        timeout: pageWaitMs,
      },
    );
    const first = await markedLeader(page!);
    expect(['n1', 'n2', 'n3']).toContain(first);

    await page!.click(`[data-node-id="${first}"] button[data-action="stop"]`);
    await page!.waitForSelector(`[data-node-id="${first}"][data-role="down"]`, {
      timeout: pageWaitMs,
    });
    const second = await markedLeader(page!, first);
    expect(second).not.toBe(first);
    await page!.waitForFunction(
      () =>
        [...document.querySelectorAll('#timeline summary')].some((summary) =>
          summary.textContent?.includes('leads in term'),
        ),
      null,
      { timeout: pageWaitMs },
    );

    await page!.click(`[data-node-id="${first}"] button[data-action="start"]`);
    await page!.waitForSelector(`[data-node-id="${first}"][data-role="follower"]`, {
      timeout: pageWaitMs,
    });
    mkdirSync(artifacts, { recursive: true });
    await page!.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true });
  }, 120_000);

  it('partitions a follower and heals it, snapshots the leader, and draws the write load', async () => {
    const leader = await markedLeader(page!);
    const follower = ['n1', 'n2', 'n3'].find((id) => id !== leader)!;
    await page!.click(`[data-node-id="${follower}"] button[data-action="partition"]`);
    await page!.waitForSelector(`[data-node-id="${follower}"].health-partitioned`, {
      timeout: pageWaitMs,
    });
    await page!.click('header button[data-action="heal"]');
    await page!.waitForSelector(`[data-node-id="${follower}"].health-ok`, { timeout: pageWaitMs });

    await page!.click(`[data-node-id="${leader}"] button[data-action="snapshot"]`);
    await page!.waitForFunction(
      () => /snapshot at index \d+/.test(document.querySelector('#notice')?.textContent ?? ''),
      null,
      { timeout: pageWaitMs },
    );

    await page!.click('header button[data-action="load-start"]');
    await page!.waitForFunction(
      () =>
        /now [1-9]\d* writes\/s/.test(document.querySelector('#throughput-now')?.textContent ?? ''),
      null,
      { timeout: pageWaitMs },
    );
    await page!.click('header button[data-action="load-stop"]');
    await page!.waitForFunction(
      () => document.querySelector('#notice')?.textContent === 'write load stopped',
      null,
      { timeout: pageWaitMs },
    );
  }, 120_000);

  it('adds a server from the page, then removes it, as the CLI does', async () => {
    await page!.click('header button[data-action="add"]');
    // Started, caught up as a learner and promoted: the card shows a voting follower.
    await page!.waitForSelector('[data-node-id="n4"][data-role="follower"]', {
      timeout: 90_000,
    });
    await page!.waitForFunction(
      () => /n4 added as a voter/.test(document.querySelector('#notice')?.textContent ?? ''),
      null,
      { timeout: pageWaitMs },
    );
    await page!.click('[data-node-id="n4"] button[data-action="remove"]');
    await page!.waitForFunction(
      () =>
        document.querySelectorAll('[data-node-id]').length === 3 &&
        document.querySelector('[data-node-id="n4"]') === null,
      null,
      { timeout: 60_000 },
    );
    expect(cluster!.layout.members.map((member) => member.id)).toEqual(['n1', 'n2', 'n3']);
    expect(cluster!.isRunning('n4')).toBe(false);
  }, 180_000);

  it('is usable on a narrow window', async () => {
    await page!.setViewportSize({ width: 390, height: 844 });
    const overflow = await page!.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    mkdirSync(artifacts, { recursive: true });
    await page!.screenshot({ path: join(artifacts, 'dashboard-narrow.png'), fullPage: true });
  });
});
